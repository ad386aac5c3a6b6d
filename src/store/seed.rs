//! A deterministic demo shop: the same `seed` always gives the same customers, orders, parcels
//! and scans, on SQLite and PostgreSQL alike. A tiny local PRNG (SplitMix64) keeps it free of
//! `rand` and stable across dependency updates.

use super::dates::{date_of_day, days_from_civil, timestamp};
use super::model::{Customer, Order, OrderItem, Product, Shipment, ShopDump, Stock, TrackingEvent};
use super::{Result, Store};
use crate::rng::SplitMix64;
use std::collections::BTreeSet;

/// The day the demo shop's history ends (orders are placed up to 60 days before).
pub const TODAY: (i64, u32, u32) = (2026, 3, 2);

/// The catalogue: SKU, name, price in cents, variants.
const CATALOGUE: [(&str, &str, i64, &[&str]); 12] = [
    (
        "TEE-01",
        "Organic cotton T-shirt",
        2499,
        &["S", "M", "L", "XL"],
    ),
    ("HOOD-02", "Zip hoodie", 5900, &["S", "M", "L", "XL"]),
    ("JEAN-03", "Slim jeans", 7999, &["30", "32", "34", "36"]),
    (
        "SNKR-04",
        "Canvas sneakers",
        6450,
        &["40", "41", "42", "43", "44"],
    ),
    ("JKT-05", "Rain jacket", 12900, &["S", "M", "L"]),
    (
        "SOCK-06",
        "Wool socks, three pack",
        1499,
        &["39-42", "43-46"],
    ),
    ("CAP-07", "Baseball cap", 1999, &["BLACK", "NAVY"]),
    ("BAG-08", "Canvas tote bag", 2900, &[]),
    ("BOTL-09", "Steel water bottle", 2400, &["500ML", "750ML"]),
    ("MUG-10", "Stoneware mug", 1250, &["WHITE", "SAGE"]),
    ("SCRF-11", "Merino scarf", 3990, &["GREY", "RUST"]),
    ("UMBR-12", "Compact umbrella", 2200, &[]),
];

const FIRST: [&str; 16] = [
    "Alice", "Ben", "Carmen", "David", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jamal", "Kate",
    "Liam", "Maya", "Noah", "Olivia", "Priya",
];
const LAST: [&str; 16] = [
    "Anderson", "Brooks", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Johnson",
    "Kowalski", "Lopez", "Miller", "Nguyen", "Okafor", "Patel",
];
const STREETS: [&str; 8] = [
    "Maple St",
    "Oak Ave",
    "Pine Rd",
    "Cedar Ln",
    "Elm St",
    "Birch Way",
    "Lake Dr",
    "Hill Rd",
];
const CITIES: [&str; 8] = [
    "Springfield",
    "Riverton",
    "Fairview",
    "Greenville",
    "Madison",
    "Clinton",
    "Franklin",
    "Salem",
];
const CARRIERS: [(&str, &str); 3] = [("UPS", "1Z"), ("FedEx", "FX"), ("USPS", "94")];
const STATUSES: [&str; 4] = ["placed", "shipped", "delivered", "cancelled"];

/// Empties the database and writes the demo shop of [`generate`]`(seed, customers)`.
pub async fn seed(store: &Store, seed: u64, customers: usize) -> Result<ShopDump> {
    let shop = generate(seed, customers);
    store.replace_shop(&shop).await?;
    Ok(shop)
}

/// The demo shop for `seed`: the 12-product catalogue with stock, `customers` customers with
/// `+1555` numbers, one to three orders each (every status present once there are four
/// orders), items, and parcels with scans for shipped and delivered orders.
pub fn generate(seed: u64, customers: usize) -> ShopDump {
    let mut rng = SplitMix64::new(seed);
    let mut shop = ShopDump::default();
    for (sku, name, price_cents, variants) in CATALOGUE {
        shop.products.push(Product {
            sku: sku.into(),
            name: name.into(),
            price_cents,
            variants: serde_json::to_string(variants).unwrap_or_else(|_| "[]".into()),
        });
        let variants: Vec<&str> = if variants.is_empty() {
            vec![""]
        } else {
            variants.to_vec()
        };
        for variant in variants {
            // About one variant in eight is sold out, so exchanges can be refused.
            let in_stock = if rng.range(0, 8) == 0 {
                0
            } else {
                rng.range(1, 40) as i64
            };
            shop.stock.push(Stock {
                sku: sku.into(),
                variant: variant.into(),
                in_stock,
            });
        }
    }
    let today = days_from_civil(TODAY.0, TODAY.1, TODAY.2);
    let mut order_ids = BTreeSet::new();
    let mut n_orders = 0;
    for i in 0..customers {
        let (first, last) = (*rng.pick(&FIRST), *rng.pick(&LAST));
        let customer = Customer {
            id: format!("C{:05}", i + 1),
            name: format!("{first} {last}"),
            phone: format!("+1555{:03}{:04}", rng.range(200, 1000), i % 10_000),
            email: format!(
                "{}.{}{}@example.com",
                first.to_lowercase(),
                last.to_lowercase(),
                i + 1
            ),
            zip: format!("{:05}", rng.range(10_000, 99_999)),
        };
        let street = format!("{} {}", rng.range(1, 999), rng.pick(&STREETS));
        let city = rng.pick(&CITIES).to_string();
        for _ in 0..rng.range(1, 4) {
            let id = loop {
                let id = format!("{}", rng.range(100_000, 1_000_000));
                if order_ids.insert(id.clone()) {
                    break id;
                }
            };
            let status = if n_orders < STATUSES.len() {
                STATUSES[n_orders]
            } else {
                *rng.pick(&STATUSES)
            };
            n_orders += 1;
            let placed_day = today - rng.range(1, 60) as i64;
            add_items(&mut rng, &mut shop, &id);
            if matches!(status, "shipped" | "delivered") {
                add_shipment(&mut rng, &mut shop, &id, status, placed_day, today, &city);
            }
            shop.orders.push(Order {
                id,
                customer_id: customer.id.clone(),
                placed: date_of_day(placed_day),
                status: status.into(),
                ship_street: street.clone(),
                ship_city: city.clone(),
                ship_zip: customer.zip.clone(),
            });
        }
        shop.customers.push(customer);
    }
    shop.sort_into_key_order();
    shop
}

/// One to three different products, at the catalogue price.
fn add_items(rng: &mut SplitMix64, shop: &mut ShopDump, order_id: &str) {
    let mut skus = BTreeSet::new();
    for _ in 0..rng.range(1, 4) {
        let (sku, _, price_cents, variants) = *rng.pick(&CATALOGUE);
        if !skus.insert(sku) {
            continue;
        }
        let variant = if variants.is_empty() {
            ""
        } else {
            *rng.pick(variants)
        };
        shop.order_items.push(OrderItem {
            order_id: order_id.into(),
            line: skus.len() as i64,
            sku: sku.into(),
            variant: variant.into(),
            qty: rng.range(1, 3) as i64,
            price_cents,
        });
    }
}

/// The parcel of a shipped or delivered order and the scans that led to its status.
fn add_shipment(
    rng: &mut SplitMix64,
    shop: &mut ShopDump,
    order_id: &str,
    status: &str,
    placed: i64,
    today: i64,
    city: &str,
) {
    let (carrier, prefix) = *rng.pick(&CARRIERS);
    let shipment_status = match status {
        "delivered" => "delivered",
        _ => *rng.pick(&[
            "label_created",
            "in_transit",
            "in_transit",
            "out_for_delivery",
            "exception",
        ]),
    };
    let steps: &[(&str, &str)] = match shipment_status {
        "label_created" => &[("Warehouse, Reno NV", "Shipping label created")],
        "in_transit" => &[
            ("Warehouse, Reno NV", "Shipping label created"),
            ("Reno NV", "Picked up by carrier"),
            ("Denver CO", "Arrived at sort facility"),
        ],
        "out_for_delivery" => &[
            ("Warehouse, Reno NV", "Shipping label created"),
            ("Reno NV", "Picked up by carrier"),
            ("Denver CO", "Arrived at sort facility"),
            (city, "Out for delivery"),
        ],
        "exception" => &[
            ("Warehouse, Reno NV", "Shipping label created"),
            ("Reno NV", "Picked up by carrier"),
            (city, "Delivery attempted: address could not be found"),
        ],
        _ => &[
            ("Warehouse, Reno NV", "Shipping label created"),
            ("Reno NV", "Picked up by carrier"),
            ("Denver CO", "Arrived at sort facility"),
            (city, "Out for delivery"),
            (city, "Delivered, left at front door"),
        ],
    };
    // Scans a day or so apart from the day after the order, never after today.
    let mut at = (placed + 1) * 86_400 + rng.range(8 * 3600, 12 * 3600) as i64;
    for (seq, (location, description)) in steps.iter().enumerate() {
        at = at.min(today * 86_400 - 3600);
        shop.tracking_events.push(TrackingEvent {
            order_id: order_id.into(),
            seq: seq as i64 + 1,
            at: timestamp(at),
            location: (*location).into(),
            description: (*description).into(),
        });
        at += rng.range(14 * 3600, 30 * 3600) as i64;
    }
    let eta = match shipment_status {
        "delivered" => None,
        "exception" => None,
        _ => Some(date_of_day(today + rng.range(1, 5) as i64)),
    };
    shop.shipments.push(Shipment {
        order_id: order_id.into(),
        carrier: carrier.into(),
        tracking: format!("{prefix}{order_id}{:08}", rng.range(0, 100_000_000)),
        status: shipment_status.into(),
        eta,
    });
}
