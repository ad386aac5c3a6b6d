//! Reading the shop (customers, catalogue, orders with their parcels) and the two changes an
//! order allows before it ships: cancelling it and changing its address.

use super::model::{
    Customer, Order, OrderDetail, OrderItem, Product, Refund, Shipment, ShopDump, Stock,
    TrackingEvent,
};
use super::requests::{Upserted, refund_by_cause, upsert_refund};
use super::{Result, Store, StoreError, query_error};

const ORDER_COLUMNS: &str = "id, customer_id, placed, status, ship_street, ship_city, ship_zip";

impl Store {
    /// The customer whose phone number is `phone` (E.164, as stored).
    pub async fn customer_by_phone(&self, phone: &str) -> Result<Option<Customer>> {
        sqlx::query_as("SELECT id, name, phone, email, zip FROM customers WHERE phone = $1")
            .bind(phone)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("customer by phone"))
    }

    /// The customer with id `id`.
    pub async fn customer(&self, id: &str) -> Result<Option<Customer>> {
        sqlx::query_as("SELECT id, name, phone, email, zip FROM customers WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("customer"))
    }

    /// The whole catalogue, by SKU.
    pub async fn products(&self) -> Result<Vec<Product>> {
        sqlx::query_as("SELECT sku, name, price_cents, variants FROM products ORDER BY sku")
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("products"))
    }

    /// The product `sku`.
    pub async fn product(&self, sku: &str) -> Result<Option<Product>> {
        sqlx::query_as("SELECT sku, name, price_cents, variants FROM products WHERE sku = $1")
            .bind(sku)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("product"))
    }

    /// Stock of every variant of `sku`, by variant.
    pub async fn stock_of(&self, sku: &str) -> Result<Vec<Stock>> {
        sqlx::query_as("SELECT sku, variant, in_stock FROM stock WHERE sku = $1 ORDER BY variant")
            .bind(sku)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("stock"))
    }

    /// The order `id` with its items, its parcel and the parcel's scans (oldest first).
    pub async fn order(&self, id: &str) -> Result<Option<OrderDetail>> {
        let order: Option<Order> =
            sqlx::query_as(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(query_error("order"))?;
        let Some(order) = order else { return Ok(None) };
        let items: Vec<OrderItem> = sqlx::query_as(
            "SELECT order_id, line, sku, variant, qty, price_cents FROM order_items WHERE order_id = $1 ORDER BY line",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("order items"))?;
        let shipment: Option<Shipment> = sqlx::query_as(
            "SELECT order_id, carrier, tracking, status, eta FROM shipments WHERE order_id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("shipment"))?;
        let events: Vec<TrackingEvent> = sqlx::query_as(
            "SELECT order_id, seq, at, location, description FROM tracking_events WHERE order_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("tracking events"))?;
        Ok(Some(OrderDetail {
            order,
            items,
            shipment,
            events,
        }))
    }

    /// The orders of customer `customer_id`, newest first.
    pub async fn orders_of_customer(&self, customer_id: &str) -> Result<Vec<Order>> {
        sqlx::query_as(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE customer_id = $1 ORDER BY placed DESC, id DESC"
        ))
        .bind(customer_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("orders of customer"))
    }

    /// Cancels order `id` if it has not shipped. Cancelling a cancelled order is a no-op; an
    /// order that has shipped is a `Conflict`.
    pub async fn cancel_order(&self, id: &str) -> Result<Order> {
        self.change_unshipped(
            id,
            "cancel order",
            "UPDATE orders SET status = 'cancelled' WHERE id = $1 AND status = 'placed'",
            &[],
        )
        .await
    }

    /// Cancels order `id` if it has not shipped and records the refund of `refund_cents`
    /// (cause `cancellation`), both in one transaction: either both happen or neither. A
    /// repeat finds the order cancelled and the refund stored and changes nothing.
    pub async fn cancel_order_with_refund(
        &self,
        id: &str,
        refund_cents: i64,
        created: &str,
    ) -> Result<Upserted<Refund>> {
        let what = "cancel order";
        let mut tx = self.pool.begin().await.map_err(query_error(what))?;
        let changed = sqlx::query(
            "UPDATE orders SET status = 'cancelled' WHERE id = $1 AND status = 'placed'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(query_error(what))?
        .rows_affected();
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(query_error(what))?;
        match status.as_deref() {
            None => {
                return Err(StoreError::NotFound {
                    what: "order",
                    key: id.to_string(),
                });
            }
            Some("cancelled") => {}
            Some(other) => {
                return Err(StoreError::Conflict {
                    what,
                    detail: format!("order {id} is {other}"),
                });
            }
        }
        // The refund is created only by the cancellation itself; a repeat finds it.
        let row = if changed == 1 {
            Some(
                upsert_refund(&mut tx, what, id, "cancellation", refund_cents, created)
                    .await?
                    .row,
            )
        } else {
            refund_by_cause(&mut tx, what, id, "cancellation").await?
        };
        let Some(row) = row else {
            // Cancelled some other way (by the shop, before this call): nothing to refund here.
            return Err(StoreError::Conflict {
                what,
                detail: format!("order {id} is cancelled"),
            });
        };
        tx.commit().await.map_err(query_error(what))?;
        Ok(Upserted {
            row,
            created: changed == 1,
        })
    }

    /// Products bought by the other customers who bought what customer `customer_id` bought,
    /// with how many such customers bought each (most first); the caller's own purchases are
    /// left out. Aggregates only: nothing says who bought what.
    pub async fn bought_together(&self, customer_id: &str) -> Result<Vec<(String, i64)>> {
        sqlx::query_as(
            "SELECT i2.sku, COUNT(DISTINCT o2.customer_id) AS n \
             FROM orders o1 JOIN order_items i1 ON i1.order_id = o1.id \
             JOIN orders o2 ON o2.customer_id = o1.customer_id JOIN order_items i2 ON i2.order_id = o2.id \
             WHERE o1.customer_id <> $1 AND i2.sku <> i1.sku \
             AND i1.sku IN (SELECT i.sku FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.customer_id = $2) \
             AND i2.sku NOT IN (SELECT i.sku FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.customer_id = $3) \
             GROUP BY i2.sku ORDER BY n DESC, i2.sku",
        )
        .bind(customer_id)
        .bind(customer_id)
        .bind(customer_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("bought together"))
    }

    /// Sends order `id` to a new address if it has not shipped (else a `Conflict`).
    pub async fn change_shipping_address(
        &self,
        id: &str,
        street: &str,
        city: &str,
        zip: &str,
    ) -> Result<Order> {
        self.change_unshipped(
            id,
            "change shipping address",
            "UPDATE orders SET ship_street = $2, ship_city = $3, ship_zip = $4 WHERE id = $1 AND status = 'placed'",
            &[street, city, zip],
        )
        .await
    }

    /// Runs `sql` (which touches only a `placed` order) on order `id`, then reports what the
    /// order is now, or why nothing changed.
    async fn change_unshipped(
        &self,
        id: &str,
        what: &'static str,
        sql: &str,
        args: &[&str],
    ) -> Result<Order> {
        let mut query = sqlx::query(sql).bind(id);
        for arg in args {
            query = query.bind(*arg);
        }
        let changed = query
            .execute(&self.pool)
            .await
            .map_err(query_error(what))?
            .rows_affected();
        let order: Order =
            sqlx::query_as(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(query_error(what))?
                .ok_or_else(|| StoreError::NotFound {
                    what: "order",
                    key: id.to_string(),
                })?;
        let idempotent_cancel = what == "cancel order" && order.status == "cancelled";
        if changed == 0 && !idempotent_cancel {
            return Err(StoreError::Conflict {
                what,
                detail: format!("order {id} is {}", order.status),
            });
        }
        Ok(order)
    }

    /// Every catalogue and order row, in key order.
    pub async fn dump_shop(&self) -> Result<ShopDump> {
        let p = &self.pool;
        let e = query_error("dump");
        Ok(ShopDump {
            customers: sqlx::query_as("SELECT id, name, phone, email, zip FROM customers ORDER BY id")
                .fetch_all(p)
                .await
                .map_err(query_error("dump"))?,
            products: sqlx::query_as("SELECT sku, name, price_cents, variants FROM products ORDER BY sku")
                .fetch_all(p)
                .await
                .map_err(query_error("dump"))?,
            stock: sqlx::query_as("SELECT sku, variant, in_stock FROM stock ORDER BY sku, variant")
                .fetch_all(p)
                .await
                .map_err(query_error("dump"))?,
            orders: sqlx::query_as(&format!("SELECT {ORDER_COLUMNS} FROM orders ORDER BY id"))
                .fetch_all(p)
                .await
                .map_err(query_error("dump"))?,
            order_items: sqlx::query_as(
                "SELECT order_id, line, sku, variant, qty, price_cents FROM order_items ORDER BY order_id, line",
            )
            .fetch_all(p)
            .await
            .map_err(query_error("dump"))?,
            shipments: sqlx::query_as("SELECT order_id, carrier, tracking, status, eta FROM shipments ORDER BY order_id")
                .fetch_all(p)
                .await
                .map_err(query_error("dump"))?,
            tracking_events: sqlx::query_as(
                "SELECT order_id, seq, at, location, description FROM tracking_events ORDER BY order_id, seq",
            )
            .fetch_all(p)
            .await
            .map_err(e)?,
        })
    }
}
