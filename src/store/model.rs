//! Row types of the shop database, one per table, decoded with `sqlx::FromRow` at run time.
//!
//! Money is integer cents, dates are ISO-8601 text, states are the lower-case words the
//! migration's CHECK constraints allow.

use serde::Serialize;
use sqlx::FromRow;

/// A customer of the shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Customer {
    pub id: String,
    pub name: String,
    /// E.164, e.g. `+15550100234`.
    pub phone: String,
    pub email: String,
    pub zip: String,
}

/// A product; `variants` is the JSON array text as stored (`["S","M"]`, `[]` for none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Product {
    pub sku: String,
    pub name: String,
    pub price_cents: i64,
    pub variants: String,
}

impl Product {
    /// The variants as a list (empty when the product has none or the JSON is malformed).
    pub fn variant_list(&self) -> Vec<String> {
        serde_json::from_str(&self.variants).unwrap_or_default()
    }
}

/// Stock of one variant of a product (`variant` is `""` for a product without variants).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Stock {
    pub sku: String,
    pub variant: String,
    pub in_stock: i64,
}

/// An order's header row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Order {
    /// Six digits.
    pub id: String,
    pub customer_id: String,
    /// `YYYY-MM-DD`.
    pub placed: String,
    /// `placed`, `shipped`, `delivered` or `cancelled`.
    pub status: String,
    pub ship_street: String,
    pub ship_city: String,
    pub ship_zip: String,
}

/// One line of an order, at the price paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct OrderItem {
    pub order_id: String,
    pub line: i64,
    pub sku: String,
    pub variant: String,
    pub qty: i64,
    pub price_cents: i64,
}

/// The parcel of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Shipment {
    pub order_id: String,
    pub carrier: String,
    pub tracking: String,
    /// `label_created`, `in_transit`, `out_for_delivery`, `delivered` or `exception`.
    pub status: String,
    /// `YYYY-MM-DD`, when known.
    pub eta: Option<String>,
}

/// One scan of a parcel, oldest first by `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct TrackingEvent {
    pub order_id: String,
    pub seq: i64,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub at: String,
    pub location: String,
    pub description: String,
}

/// An order with everything a caller may ask about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderDetail {
    pub order: Order,
    pub items: Vec<OrderItem>,
    pub shipment: Option<Shipment>,
    pub events: Vec<TrackingEvent>,
}

impl OrderDetail {
    /// What the items cost together, in cents.
    pub fn total_cents(&self) -> i64 {
        self.items.iter().map(|i| i.qty * i.price_cents).sum()
    }
}

/// A return of one item of an order (at most one per order and SKU).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Return {
    pub id: String,
    pub order_id: String,
    pub sku: String,
    pub reason: String,
    pub created: String,
    /// `requested`, `label_sent`, `received`, `refunded` or `rejected`.
    pub state: String,
}

/// A refund; `cause` is the return id it pays for, or `cancellation` / `goodwill`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Refund {
    pub id: String,
    pub order_id: String,
    pub cause: String,
    pub amount_cents: i64,
    /// `pending`, `issued` or `failed`.
    pub state: String,
    pub created: String,
}

/// An exchange of one item of an order for another variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Exchange {
    pub id: String,
    pub order_id: String,
    pub sku: String,
    pub from_variant: String,
    pub to_variant: String,
    pub created: String,
    /// `requested`, `shipped`, `completed` or `rejected`.
    pub state: String,
}

/// A complaint or a hand-over to a person, with a summary for the team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Ticket {
    pub id: String,
    /// `complaint` or `transfer`.
    pub kind: String,
    pub call_id: Option<String>,
    pub customer_id: Option<String>,
    pub order_id: Option<String>,
    pub summary: String,
    pub created: String,
    /// `open` or `closed`.
    pub state: String,
}

/// One call to the hotline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Call {
    pub id: String,
    pub started: String,
    pub ended: Option<String>,
    /// `sip`, `webrtc`, `mic` or `text`.
    pub channel: String,
    pub caller: Option<String>,
    pub customer_id: Option<String>,
    pub outcome: Option<String>,
}

/// One turn of a call with the latencies measured for it (milliseconds, when measured).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Turn {
    pub call_id: String,
    pub idx: i64,
    /// `caller`, `assistant` or `tool`.
    pub role: String,
    pub text: String,
    pub asr_ms: Option<i64>,
    pub llm_first_ms: Option<i64>,
    pub tts_first_ms: Option<i64>,
    /// End of speech to the first audio frame handed to the transport (a filler counts).
    pub end_to_end_ms: Option<i64>,
    /// End of speech to the first audio frame of the answer itself.
    pub answer_ms: Option<i64>,
}

/// A caller turn's latency figures, in milliseconds (see `turns` in the migrations).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TurnLatencyMs {
    pub asr_ms: Option<i64>,
    pub llm_first_ms: Option<i64>,
    pub tts_first_ms: Option<i64>,
    pub end_to_end_ms: Option<i64>,
    pub answer_ms: Option<i64>,
}

/// How a tool call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Outcome {
    Ok,
    /// Refused by policy (e.g. identity not verified).
    Denied,
    Error,
}

impl Outcome {
    /// The word stored in `tool_audit.outcome`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Denied => "denied",
            Outcome::Error => "error",
        }
    }
}

/// One audited tool call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct AuditEntry {
    pub call_id: String,
    pub seq: i64,
    pub at: String,
    pub tool: String,
    /// The arguments as a JSON object.
    pub args: String,
    /// `ok`, `denied` or `error`.
    pub outcome: String,
    pub detail: String,
}

/// A caller's satisfaction score, 1 to 5.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Survey {
    pub call_id: String,
    pub score: i64,
    pub at: String,
}

/// Every row of the shop's catalogue and order tables, in key order: for comparing two
/// databases (determinism of the seed, SQLite against PostgreSQL) and for dumps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct ShopDump {
    pub customers: Vec<Customer>,
    pub products: Vec<Product>,
    pub stock: Vec<Stock>,
    pub orders: Vec<Order>,
    pub order_items: Vec<OrderItem>,
    pub shipments: Vec<Shipment>,
    pub tracking_events: Vec<TrackingEvent>,
}

impl ShopDump {
    /// Sorts every table by its key, the order `dump_shop` reads them in, so that dumps built
    /// in memory (the seed, a fixture) compare equal to dumps read back from a database.
    pub fn sort_into_key_order(&mut self) {
        self.customers.sort_by(|a, b| a.id.cmp(&b.id));
        self.products.sort_by(|a, b| a.sku.cmp(&b.sku));
        self.stock
            .sort_by(|a, b| (&a.sku, &a.variant).cmp(&(&b.sku, &b.variant)));
        self.orders.sort_by(|a, b| a.id.cmp(&b.id));
        self.order_items
            .sort_by(|a, b| (&a.order_id, a.line).cmp(&(&b.order_id, b.line)));
        self.shipments.sort_by(|a, b| a.order_id.cmp(&b.order_id));
        self.tracking_events
            .sort_by(|a, b| (&a.order_id, a.seq).cmp(&(&b.order_id, b.seq)));
    }
}
