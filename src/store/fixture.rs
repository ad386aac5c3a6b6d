//! A hand-written shop for scenario evaluations, in the YAML shape
//!
//! ```yaml
//! customers: [{id: C1, name: Ada Lovelace, phone: "+15550100001", email: ada@example.com, zip: "94110"}]
//! products:  [{sku: TEE-01, name: T-shirt, price: "24.99", variants: [S, M]}]
//! orders:
//!   - id: "123456"
//!     customer: C1
//!     placed: 2026-02-20
//!     status: shipped
//!     items: [{sku: TEE-01, qty: 1, variant: M}]
//!     shipment: {carrier: UPS, tracking: 1Z999, status: in_transit, eta: 2026-03-04}
//! ```
//!
//! Prices are decimal strings, turned into cents exactly (no floating point).

use super::model::{Customer, Order, OrderItem, Product, Shipment, ShopDump, Stock};
use super::{Result, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most of one item an order may hold (keeps every total far inside `i64` cents).
pub const MAX_QTY: i64 = 1000;

/// Stock of each variant when a fixture product does not say.
pub const DEFAULT_STOCK: i64 = 10;

/// A whole shop as written in a scenario file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    #[serde(default)]
    pub customers: Vec<FixtureCustomer>,
    #[serde(default)]
    pub products: Vec<FixtureProduct>,
    #[serde(default)]
    pub orders: Vec<FixtureOrder>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureCustomer {
    pub id: String,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub zip: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureProduct {
    pub sku: String,
    pub name: String,
    /// Dollars as a decimal string: `"79.99"`, `"80"`.
    pub price: String,
    #[serde(default)]
    pub variants: Vec<String>,
    /// Stock per variant (`""` for a product without variants); unnamed ones get
    /// [`DEFAULT_STOCK`].
    #[serde(default)]
    pub stock: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureOrder {
    pub id: String,
    /// The customer's id.
    pub customer: String,
    /// `YYYY-MM-DD`.
    pub placed: String,
    pub status: String,
    pub items: Vec<FixtureItem>,
    #[serde(default)]
    pub shipment: Option<FixtureShipment>,
    /// Where it goes; defaults to `1 Main St, Springfield` at the customer's ZIP.
    #[serde(default)]
    pub address: Option<FixtureAddress>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureAddress {
    pub street: String,
    pub city: String,
    pub zip: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureItem {
    pub sku: String,
    #[serde(default = "one")]
    pub qty: i64,
    /// Required when the product has variants.
    #[serde(default)]
    pub variant: Option<String>,
}

fn one() -> i64 {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureShipment {
    pub carrier: String,
    pub tracking: String,
    pub status: String,
    #[serde(default)]
    pub eta: Option<String>,
}

/// `"79.99"` → 7999 cents, exactly: digits, optionally a point and one or two more digits.
pub fn parse_price_cents(price: &str) -> Result<i64> {
    let bad = || StoreError::Invalid {
        what: "price",
        detail: format!("{price:?} is not a price like \"79.99\""),
    };
    let (whole, frac) = price.trim().split_once('.').unwrap_or((price.trim(), ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole)
        || whole.len() > 12
        || (price.contains('.') && !digits(frac))
        || frac.len() > 2
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let cents: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().map_err(|_| bad())? * 10,
        _ => frac.parse().map_err(|_| bad())?,
    };
    Ok(whole * 100 + cents)
}

impl Fixture {
    /// The rows this fixture stands for, checked: known customers, SKUs and variants,
    /// exact prices. Errors name the offending entry.
    pub fn to_shop(&self) -> Result<ShopDump> {
        let invalid = |detail: String| StoreError::Invalid {
            what: "fixture",
            detail,
        };
        let mut shop = ShopDump::default();
        let mut catalogue = BTreeMap::new();
        for p in &self.products {
            let price_cents = parse_price_cents(&p.price)
                .map_err(|e| invalid(format!("product {}: {e}", p.sku)))?;
            let variants = if p.variants.is_empty() {
                vec![String::new()]
            } else {
                p.variants.clone()
            };
            for v in &variants {
                let in_stock = p.stock.get(v).copied().unwrap_or(DEFAULT_STOCK);
                shop.stock.push(Stock {
                    sku: p.sku.clone(),
                    variant: v.clone(),
                    in_stock,
                });
            }
            if let Some(unknown) = p.stock.keys().find(|k| !variants.contains(k)) {
                return Err(invalid(format!(
                    "product {}: stock for unknown variant {unknown:?}",
                    p.sku
                )));
            }
            catalogue.insert(p.sku.clone(), (price_cents, p.variants.clone()));
            shop.products.push(Product {
                sku: p.sku.clone(),
                name: p.name.clone(),
                price_cents,
                variants: serde_json::to_string(&p.variants).unwrap_or_else(|_| "[]".into()),
            });
        }
        for c in &self.customers {
            shop.customers.push(Customer {
                id: c.id.clone(),
                name: c.name.clone(),
                phone: c.phone.clone(),
                email: c.email.clone(),
                zip: c.zip.clone(),
            });
        }
        for o in &self.orders {
            let customer = self
                .customers
                .iter()
                .find(|c| c.id == o.customer)
                .ok_or_else(|| {
                    invalid(format!("order {}: unknown customer {}", o.id, o.customer))
                })?;
            let address = o.address.clone().unwrap_or_else(|| FixtureAddress {
                street: "1 Main St".into(),
                city: "Springfield".into(),
                zip: customer.zip.clone(),
            });
            shop.orders.push(Order {
                id: o.id.clone(),
                customer_id: o.customer.clone(),
                placed: o.placed.clone(),
                status: o.status.clone(),
                ship_street: address.street,
                ship_city: address.city,
                ship_zip: address.zip,
            });
            for (line, item) in o.items.iter().enumerate() {
                let (price_cents, variants) = catalogue
                    .get(&item.sku)
                    .ok_or_else(|| invalid(format!("order {}: unknown SKU {}", o.id, item.sku)))?;
                let variant = item.variant.clone().unwrap_or_default();
                let known =
                    variants.contains(&variant) || (variants.is_empty() && variant.is_empty());
                if !known {
                    return Err(invalid(format!(
                        "order {}: {} has no variant {variant:?}",
                        o.id, item.sku
                    )));
                }
                if !(1..=MAX_QTY).contains(&item.qty) {
                    return Err(invalid(format!(
                        "order {}: qty {} of {} is not 1 to {MAX_QTY}",
                        o.id, item.qty, item.sku
                    )));
                }
                shop.order_items.push(OrderItem {
                    order_id: o.id.clone(),
                    line: line as i64 + 1,
                    sku: item.sku.clone(),
                    variant,
                    qty: item.qty,
                    price_cents: *price_cents,
                });
            }
            if let Some(s) = &o.shipment {
                shop.shipments.push(Shipment {
                    order_id: o.id.clone(),
                    carrier: s.carrier.clone(),
                    tracking: s.tracking.clone(),
                    status: s.status.clone(),
                    eta: s.eta.clone(),
                });
            }
        }
        shop.sort_into_key_order();
        Ok(shop)
    }
}

/// Empties the database and writes the shop of `fixture` (see [`Fixture::to_shop`]); the
/// database's own constraints (six-digit order ids, known states) reject the rest.
pub async fn load_fixture(store: &Store, fixture: &Fixture) -> Result<ShopDump> {
    let shop = fixture.to_shop()?;
    store.replace_shop(&shop).await?;
    Ok(shop)
}

#[cfg(test)]
mod tests {
    use super::parse_price_cents;

    #[test]
    fn prices_parse_to_exact_cents() {
        assert_eq!(parse_price_cents("79.99").unwrap(), 7999);
        assert_eq!(parse_price_cents("80").unwrap(), 8000);
        assert_eq!(parse_price_cents("0.5").unwrap(), 50);
        assert_eq!(parse_price_cents("0.07").unwrap(), 7);
        assert_eq!(parse_price_cents("1234567.89").unwrap(), 123_456_789);
        for bad in ["", ".5", "1.", "1.234", "-1", "1,50", "abc", "1e3", " . "] {
            assert!(parse_price_cents(bad).is_err(), "{bad:?}");
        }
    }
}
