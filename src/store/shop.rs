//! Replacing the whole shop (catalogue, customers, orders, parcels) in one transaction: what
//! the demo seed and the fixture loader write.

use super::model::ShopDump;
use super::{Result, Store, query_error};
use sqlx::AnyConnection;

/// Every shop table, children before parents, in the order they are emptied. The console's
/// users stay.
const TABLES: [&str; 16] = [
    "call_notes",
    "surveys",
    "tool_audit",
    "turns",
    "tickets",
    "calls",
    "exchanges",
    "refunds",
    "returns",
    "tracking_events",
    "shipments",
    "order_items",
    "orders",
    "stock",
    "products",
    "customers",
];

impl Store {
    /// Empties every table (calls and their records included) and writes `shop`, all in one
    /// transaction: on any error nothing changes.
    pub async fn replace_shop(&self, shop: &ShopDump) -> Result<()> {
        let what = "replace shop";
        let mut tx = self.pool.begin().await.map_err(query_error(what))?;
        for table in TABLES {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await
                .map_err(query_error(what))?;
        }
        insert_all(&mut tx, shop).await.map_err(query_error(what))?;
        tx.commit().await.map_err(query_error(what))
    }
}

async fn insert_all(db: &mut AnyConnection, shop: &ShopDump) -> sqlx::Result<()> {
    for c in &shop.customers {
        sqlx::query(
            "INSERT INTO customers (id, name, phone, email, zip) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&c.id)
        .bind(&c.name)
        .bind(&c.phone)
        .bind(&c.email)
        .bind(&c.zip)
        .execute(&mut *db)
        .await?;
    }
    for p in &shop.products {
        sqlx::query(
            "INSERT INTO products (sku, name, price_cents, variants) VALUES ($1, $2, $3, $4)",
        )
        .bind(&p.sku)
        .bind(&p.name)
        .bind(p.price_cents)
        .bind(&p.variants)
        .execute(&mut *db)
        .await?;
    }
    for s in &shop.stock {
        sqlx::query("INSERT INTO stock (sku, variant, in_stock) VALUES ($1, $2, $3)")
            .bind(&s.sku)
            .bind(&s.variant)
            .bind(s.in_stock)
            .execute(&mut *db)
            .await?;
    }
    for o in &shop.orders {
        sqlx::query(
            "INSERT INTO orders (id, customer_id, placed, status, ship_street, ship_city, ship_zip) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&o.id)
        .bind(&o.customer_id)
        .bind(&o.placed)
        .bind(&o.status)
        .bind(&o.ship_street)
        .bind(&o.ship_city)
        .bind(&o.ship_zip)
        .execute(&mut *db)
        .await?;
    }
    for i in &shop.order_items {
        sqlx::query(
            "INSERT INTO order_items (order_id, line, sku, variant, qty, price_cents) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&i.order_id)
        .bind(i.line)
        .bind(&i.sku)
        .bind(&i.variant)
        .bind(i.qty)
        .bind(i.price_cents)
        .execute(&mut *db)
        .await?;
    }
    for s in &shop.shipments {
        sqlx::query("INSERT INTO shipments (order_id, carrier, tracking, status, eta) VALUES ($1, $2, $3, $4, $5)")
            .bind(&s.order_id)
            .bind(&s.carrier)
            .bind(&s.tracking)
            .bind(&s.status)
            .bind(&s.eta)
            .execute(&mut *db)
            .await?;
    }
    for e in &shop.tracking_events {
        sqlx::query(
            "INSERT INTO tracking_events (order_id, seq, at, location, description) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&e.order_id)
        .bind(e.seq)
        .bind(&e.at)
        .bind(&e.location)
        .bind(&e.description)
        .execute(&mut *db)
        .await?;
    }
    Ok(())
}
