//! The assistant's tools: each a typed call with validated arguments, an access rule, and an
//! effect on the shop database that is safe to repeat. Every call that runs or is refused is
//! written to the call's audit log by the session (`dialog::session`).
//!
//! A tool runs in two steps. [`ToolCall::check`] reads the shop and says whether the call can
//! go ahead, is refused (and why, as a reply), or needs the caller's explicit yes after a
//! read-back; [`ToolCall::apply`] then makes the change. Read-only tools are done in `check`.

mod after_sales;
pub(crate) use after_sales::said_in_mandarin;
mod care;
mod changes;
mod identity;
mod orders;

use serde::Deserialize;
use serde_json::{Value, json};

use super::reply::{ItemLine, Reply};
use crate::store::{Customer, OrderDetail, Outcome, Store, StoreError};

/// Days after delivery in which an item may be returned or exchanged.
pub const RETURN_WINDOW_DAYS: i64 = 30;

/// A tool call with its arguments, as the model may emit it:
/// `{"tool": "get_order_status", "args": {"order_id": "100042"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(
    tag = "tool",
    content = "args",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub enum ToolCall {
    VerifyIdentity {
        order_id: String,
        #[serde(default)]
        zip: Option<String>,
        #[serde(default)]
        email: Option<String>,
    },
    GetOrderStatus {
        order_id: String,
    },
    TrackShipment {
        order_id: String,
    },
    CancelOrder {
        order_id: String,
        #[serde(default)]
        reason: Option<String>,
    },
    ChangeShippingAddress {
        order_id: String,
        street: String,
        city: String,
        zip: String,
    },
    StartReturn {
        order_id: String,
        sku: String,
        #[serde(default)]
        reason: Option<String>,
    },
    GetRefundStatus {
        order_id: String,
    },
    RequestExchange {
        order_id: String,
        sku: String,
        variant: String,
    },
    FileComplaint {
        #[serde(default)]
        order_id: Option<String>,
        summary: String,
    },
    RecommendProducts {
        #[serde(default)]
        topic: Option<String>,
    },
    TransferToHuman {
        summary: String,
    },
    RecordSurvey {
        score: i64,
    },
}

/// Who may use a tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Anyone, verified or not.
    Anyone,
    /// A verified caller.
    Verified,
    /// A verified caller, on this order of their own.
    OwnOrder(String),
}

/// Why a tool call could not run.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("invalid arguments for {tool}: {detail}")]
    Invalid { tool: &'static str, detail: String },
    #[error("the shop database failed: {0}")]
    Store(#[from] StoreError),
}

impl ToolError {
    /// The database is unreachable or failing (not a refusal of this request).
    pub fn is_system(&self) -> bool {
        match self {
            ToolError::Store(e) => !matches!(
                e,
                StoreError::NotFound { .. }
                    | StoreError::Conflict { .. }
                    | StoreError::Invalid { .. }
            ),
            ToolError::Invalid { .. } => false,
        }
    }
}

/// What a tool call may do now.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// Done (read-only tools) or ready to apply without confirmation.
    Ready(Done),
    /// Needs the caller's explicit yes after this read-back.
    Confirm(Reply),
    /// Refused by policy: the reply says why; `detail` goes to the audit.
    Refused { reply: Reply, detail: String },
}

/// A tool call that ran, or can run without more checks.
#[derive(Debug, Clone, PartialEq)]
pub enum Done {
    /// It ran; this is the reply.
    Ran(Reply),
    /// It may run: call [`ToolCall::apply`].
    ToApply,
}

/// What ran, for the reply and the audit.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub reply: Reply,
    pub outcome: Outcome,
    pub detail: String,
    /// A successful `verify_identity`: who the caller is.
    pub verified: Option<Customer>,
    /// `transfer_to_human`: the call goes to a person.
    pub transfer: bool,
}

impl Applied {
    fn ok(reply: Reply, detail: impl Into<String>) -> Applied {
        Applied {
            reply,
            outcome: Outcome::Ok,
            detail: detail.into(),
            verified: None,
            transfer: false,
        }
    }
}

/// What a tool sees of the call it serves.
pub struct Ctx<'a> {
    pub store: &'a Store,
    pub call_id: &'a str,
    /// The verified caller, if any.
    pub customer: Option<&'a Customer>,
    /// Today, as days since 1970-01-01 (the scenario's or the real clock).
    pub today: i64,
    /// The time stamped on what is written, `YYYY-MM-DDTHH:MM:SSZ`.
    pub now: &'a str,
}

fn six_digits(s: &str) -> bool {
    s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit())
}

impl ToolCall {
    /// Parses a model action `{"tool": ..., "args": {...}}` and validates the arguments.
    pub fn from_json(value: &Value) -> Result<ToolCall, ToolError> {
        let call: ToolCall =
            serde_json::from_value(value.clone()).map_err(|e| ToolError::Invalid {
                tool: value
                    .get("tool")
                    .and_then(Value::as_str)
                    .and_then(tool_name)
                    .unwrap_or("unknown tool"),
                detail: e.to_string(),
            })?;
        call.validate()?;
        Ok(call)
    }

    /// The tool's catalog name.
    pub fn name(&self) -> &'static str {
        match self {
            ToolCall::VerifyIdentity { .. } => "verify_identity",
            ToolCall::GetOrderStatus { .. } => "get_order_status",
            ToolCall::TrackShipment { .. } => "track_shipment",
            ToolCall::CancelOrder { .. } => "cancel_order",
            ToolCall::ChangeShippingAddress { .. } => "change_shipping_address",
            ToolCall::StartReturn { .. } => "start_return",
            ToolCall::GetRefundStatus { .. } => "get_refund_status",
            ToolCall::RequestExchange { .. } => "request_exchange",
            ToolCall::FileComplaint { .. } => "file_complaint",
            ToolCall::RecommendProducts { .. } => "recommend_products",
            ToolCall::TransferToHuman { .. } => "transfer_to_human",
            ToolCall::RecordSurvey { .. } => "record_survey",
        }
    }

    /// The arguments as the audit stores them.
    pub fn args_json(&self) -> Value {
        let opt = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
        let mut args = match self {
            ToolCall::VerifyIdentity {
                order_id,
                zip,
                email,
            } => json!({"order_id": order_id, "zip": opt(zip), "email": opt(email)}),
            ToolCall::GetOrderStatus { order_id }
            | ToolCall::TrackShipment { order_id }
            | ToolCall::GetRefundStatus { order_id } => json!({"order_id": order_id}),
            ToolCall::CancelOrder { order_id, reason } => {
                json!({"order_id": order_id, "reason": opt(reason)})
            }
            ToolCall::ChangeShippingAddress {
                order_id,
                street,
                city,
                zip,
            } => json!({"order_id": order_id, "street": street, "city": city, "zip": zip}),
            ToolCall::StartReturn {
                order_id,
                sku,
                reason,
            } => json!({"order_id": order_id, "sku": sku, "reason": opt(reason)}),
            ToolCall::RequestExchange {
                order_id,
                sku,
                variant,
            } => json!({"order_id": order_id, "sku": sku, "variant": variant}),
            ToolCall::FileComplaint { order_id, summary } => {
                json!({"order_id": opt(order_id), "summary": summary})
            }
            ToolCall::RecommendProducts { topic } => json!({"topic": opt(topic)}),
            ToolCall::TransferToHuman { summary } => json!({"summary": summary}),
            ToolCall::RecordSurvey { score } => json!({"score": score}),
        };
        if let Some(map) = args.as_object_mut() {
            map.retain(|_, v| !v.is_null());
        }
        args
    }

    /// The order the call is about, if any.
    pub fn order_id(&self) -> Option<&str> {
        match self {
            ToolCall::VerifyIdentity { order_id, .. }
            | ToolCall::GetOrderStatus { order_id }
            | ToolCall::TrackShipment { order_id }
            | ToolCall::CancelOrder { order_id, .. }
            | ToolCall::ChangeShippingAddress { order_id, .. }
            | ToolCall::StartReturn { order_id, .. }
            | ToolCall::GetRefundStatus { order_id }
            | ToolCall::RequestExchange { order_id, .. } => Some(order_id),
            ToolCall::FileComplaint { order_id, .. } => order_id.as_deref(),
            ToolCall::RecommendProducts { .. }
            | ToolCall::TransferToHuman { .. }
            | ToolCall::RecordSurvey { .. } => None,
        }
    }

    /// Replaces the order the call is about.
    pub fn set_order_id(&mut self, id: &str) {
        match self {
            ToolCall::VerifyIdentity { order_id, .. }
            | ToolCall::GetOrderStatus { order_id }
            | ToolCall::TrackShipment { order_id }
            | ToolCall::CancelOrder { order_id, .. }
            | ToolCall::ChangeShippingAddress { order_id, .. }
            | ToolCall::StartReturn { order_id, .. }
            | ToolCall::GetRefundStatus { order_id }
            | ToolCall::RequestExchange { order_id, .. } => *order_id = id.to_string(),
            ToolCall::FileComplaint { order_id, .. } => *order_id = Some(id.to_string()),
            ToolCall::RecommendProducts { .. }
            | ToolCall::TransferToHuman { .. }
            | ToolCall::RecordSurvey { .. } => {}
        }
    }

    /// Who may make this call.
    pub fn access(&self) -> Access {
        match self {
            ToolCall::VerifyIdentity { .. }
            | ToolCall::TransferToHuman { .. }
            | ToolCall::RecordSurvey { .. }
            | ToolCall::FileComplaint { order_id: None, .. } => Access::Anyone,
            ToolCall::RecommendProducts { .. } => Access::Verified,
            other => Access::OwnOrder(other.order_id().unwrap_or_default().to_string()),
        }
    }

    /// Moves money or changes an order: needs a read-back and an explicit yes.
    pub fn needs_confirmation(&self) -> bool {
        matches!(
            self,
            ToolCall::CancelOrder { .. }
                | ToolCall::ChangeShippingAddress { .. }
                | ToolCall::StartReturn { .. }
                | ToolCall::RequestExchange { .. }
        )
    }

    /// Checks the arguments' shapes (the grammar already forces them on the model's output;
    /// this guards every other way in).
    pub fn validate(&self) -> Result<(), ToolError> {
        let name = self.name();
        let bad = |detail: String| Err(ToolError::Invalid { tool: name, detail });
        if let Some(id) = self.order_id()
            && !six_digits(id)
        {
            return bad(format!("order_id {id:?} is not six digits"));
        }
        let long = |s: &str, max: usize| s.trim().is_empty() || s.chars().count() > max;
        match self {
            ToolCall::VerifyIdentity {
                zip: None,
                email: None,
                ..
            } => {
                return bad("needs a zip or an email".into());
            }
            ToolCall::ChangeShippingAddress {
                street, city, zip, ..
            } => {
                if long(street, 120) || long(city, 60) {
                    return bad("street or city empty or too long".into());
                }
                if zip.len() != 5 || !zip.bytes().all(|b| b.is_ascii_digit()) {
                    return bad(format!("zip {zip:?} is not five digits"));
                }
            }
            ToolCall::StartReturn { sku, .. } | ToolCall::RequestExchange { sku, .. }
                if long(sku, 17) =>
            {
                return bad(format!("sku {sku:?}"));
            }
            ToolCall::FileComplaint { summary, .. } | ToolCall::TransferToHuman { summary }
                if long(summary, 300) =>
            {
                return bad("summary empty or too long".into());
            }
            ToolCall::RecordSurvey { score } if !(1..=5).contains(score) => {
                return bad(format!("score {score} is not 1 to 5"));
            }
            _ => {}
        }
        Ok(())
    }

    /// Reads what the call needs and decides whether it may go ahead. Access (identity,
    /// ownership) is the session's policy and is checked before this.
    pub async fn check(&self, ctx: &Ctx<'_>) -> Result<Check, ToolError> {
        match self {
            ToolCall::GetOrderStatus { order_id } => orders::status(ctx, order_id).await,
            ToolCall::TrackShipment { order_id } => orders::track(ctx, order_id).await,
            ToolCall::CancelOrder { order_id, .. } => changes::check_cancel(ctx, order_id).await,
            ToolCall::ChangeShippingAddress {
                order_id,
                street,
                city,
                zip,
            } => changes::check_address(ctx, order_id, street, city, zip).await,
            ToolCall::StartReturn { order_id, sku, .. } => {
                after_sales::check_return(ctx, order_id, sku).await
            }
            ToolCall::GetRefundStatus { order_id } => {
                after_sales::refund_status(ctx, order_id).await
            }
            ToolCall::RequestExchange {
                order_id,
                sku,
                variant,
            } => after_sales::check_exchange(ctx, order_id, sku, variant).await,
            ToolCall::VerifyIdentity { .. }
            | ToolCall::FileComplaint { .. }
            | ToolCall::RecommendProducts { .. }
            | ToolCall::TransferToHuman { .. }
            | ToolCall::RecordSurvey { .. } => Ok(Check::Ready(Done::ToApply)),
        }
    }

    /// Makes the change (after [`Self::check`] and, where needed, the caller's yes). Safe to
    /// repeat: a second call finds the first one's result and creates nothing new.
    pub async fn apply(&self, ctx: &Ctx<'_>) -> Result<Applied, ToolError> {
        match self {
            ToolCall::VerifyIdentity {
                order_id,
                zip,
                email,
            } => identity::verify(ctx, order_id, zip.as_deref(), email.as_deref()).await,
            ToolCall::CancelOrder { order_id, .. } => changes::cancel(ctx, order_id).await,
            ToolCall::ChangeShippingAddress {
                order_id,
                street,
                city,
                zip,
            } => changes::change_address(ctx, order_id, street, city, zip).await,
            ToolCall::StartReturn {
                order_id,
                sku,
                reason,
            } => after_sales::start_return(ctx, order_id, sku, reason.as_deref()).await,
            ToolCall::RequestExchange {
                order_id,
                sku,
                variant,
            } => after_sales::exchange(ctx, order_id, sku, variant).await,
            ToolCall::FileComplaint { order_id, summary } => {
                care::complaint(ctx, order_id.as_deref(), summary).await
            }
            ToolCall::RecommendProducts { topic } => care::recommend(ctx, topic.as_deref()).await,
            ToolCall::TransferToHuman { summary } => care::transfer(ctx, summary).await,
            ToolCall::RecordSurvey { score } => care::survey(ctx, *score).await,
            ToolCall::GetOrderStatus { .. }
            | ToolCall::TrackShipment { .. }
            | ToolCall::GetRefundStatus { .. } => match self.check(ctx).await? {
                Check::Ready(Done::Ran(reply)) => Ok(Applied::ok(reply, "read")),
                Check::Refused { reply, detail } => Ok(Applied {
                    reply,
                    outcome: Outcome::Denied,
                    detail,
                    verified: None,
                    transfer: false,
                }),
                Check::Ready(Done::ToApply) | Check::Confirm(_) => Err(ToolError::Invalid {
                    tool: self.name(),
                    detail: "a read-only tool has nothing to apply".into(),
                }),
            },
        }
    }
}

/// The catalog name `name` as a static string, if it is one.
pub fn tool_name(name: &str) -> Option<&'static str> {
    crate::dialog::catalog::shop_tools()
        .into_iter()
        .map(|t| t.name)
        .find(|n| *n == name)
}

/// The order `id`, or `NotFound` (the session checks ownership before any tool runs).
async fn order(ctx: &Ctx<'_>, id: &str) -> Result<OrderDetail, ToolError> {
    ctx.store.order(id).await?.ok_or_else(|| {
        ToolError::Store(StoreError::NotFound {
            what: "order",
            key: id.to_string(),
        })
    })
}

/// The order's items with product names, as said to the caller.
async fn item_lines(ctx: &Ctx<'_>, detail: &OrderDetail) -> Result<Vec<ItemLine>, ToolError> {
    let mut lines = Vec::with_capacity(detail.items.len());
    for item in &detail.items {
        lines.push(ItemLine {
            qty: item.qty,
            name: product_name(ctx, &item.sku).await?,
            variant: item.variant.clone(),
        });
    }
    Ok(lines)
}

async fn product_name(ctx: &Ctx<'_>, sku: &str) -> Result<String, ToolError> {
    Ok(ctx
        .store
        .product(sku)
        .await?
        .map_or_else(|| sku.to_string(), |p| p.name))
}

/// The day the parcel arrived (the shipment's date for a delivered parcel; the order date
/// when the shop has no parcel record), or `None` if not delivered.
fn delivered_day(detail: &OrderDetail) -> Option<i64> {
    if detail.order.status != "delivered" {
        return None;
    }
    let date = detail
        .shipment
        .as_ref()
        .filter(|s| s.status == "delivered")
        .and_then(|s| s.eta.clone())
        .unwrap_or_else(|| detail.order.placed.clone());
    crate::store::day_of_date(&date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_validates_model_actions() {
        let call = ToolCall::from_json(
            &json!({"tool": "start_return", "args": {"order_id": "100042", "sku": "HP-200"}}),
        )
        .unwrap();
        assert_eq!(
            call,
            ToolCall::StartReturn {
                order_id: "100042".into(),
                sku: "HP-200".into(),
                reason: None
            }
        );
        assert!(call.needs_confirmation());
        assert_eq!(call.access(), Access::OwnOrder("100042".into()));
        assert_eq!(
            call.args_json(),
            json!({"order_id": "100042", "sku": "HP-200"})
        );
        for bad in [
            json!({"tool": "refund_everything", "args": {}}),
            json!({"tool": "get_order_status", "args": {"order_id": "12"}}),
            json!({"tool": "get_order_status", "args": {"order_id": "100042", "admin": true}}),
            json!({"tool": "record_survey", "args": {"score": 9}}),
            json!({"tool": "verify_identity", "args": {"order_id": "100042"}}),
            json!({"say": "hello"}),
            json!("garbage"),
        ] {
            assert!(ToolCall::from_json(&bad).is_err(), "{bad}");
        }
    }
}
