//! After-sales requests: returns, refunds, exchanges, and tickets (complaints and hand-overs).
//!
//! Returns, refunds and exchanges are idempotent: their ids are made from their natural keys
//! and a repeated request returns the stored row instead of creating a second one.

use sqlx::AnyConnection;

use super::model::{Exchange, Refund, Return, Ticket};
use super::{Result, Store, StoreError, query_error};

/// A stored row and whether this call created it (`false`: it was already there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upserted<T> {
    pub row: T,
    pub created: bool,
}

/// What a new ticket says.
#[derive(Debug, Clone, Default)]
pub struct NewTicket<'a> {
    /// `complaint` or `transfer`.
    pub kind: &'a str,
    pub call_id: Option<&'a str>,
    pub customer_id: Option<&'a str>,
    pub order_id: Option<&'a str>,
    pub summary: &'a str,
    pub created: &'a str,
}

impl Store {
    /// Starts the return of `sku` from order `order_id` (state `requested`), or returns the
    /// return already started for that item. The order must exist and contain the item.
    pub async fn insert_return(
        &self,
        order_id: &str,
        sku: &str,
        reason: &str,
        created: &str,
    ) -> Result<Upserted<Return>> {
        self.require_item(order_id, sku).await?;
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(query_error("insert return"))?;
        upsert_return(&mut conn, "insert return", order_id, sku, reason, created).await
    }

    /// Starts the return of `sku` from order `order_id` and records its pending refund of
    /// `refund_cents` (cause: the return's id) in one transaction. A repeat returns the
    /// stored return and refund and creates neither again.
    pub async fn start_return_with_refund(
        &self,
        order_id: &str,
        sku: &str,
        reason: &str,
        refund_cents: i64,
        created: &str,
    ) -> Result<Upserted<(Return, Refund)>> {
        let what = "start return";
        self.require_item(order_id, sku).await?;
        let mut tx = self.pool.begin().await.map_err(query_error(what))?;
        let ret = upsert_return(&mut tx, what, order_id, sku, reason, created).await?;
        let refund = upsert_refund(&mut tx, what, order_id, &ret.row.id, refund_cents, created)
            .await?
            .row;
        tx.commit().await.map_err(query_error(what))?;
        Ok(Upserted {
            row: (ret.row, refund),
            created: ret.created,
        })
    }

    /// The exchanges of order `order_id`, by SKU.
    pub async fn exchanges_of_order(&self, order_id: &str) -> Result<Vec<Exchange>> {
        sqlx::query_as(
            "SELECT id, order_id, sku, from_variant, to_variant, created, state FROM exchanges WHERE order_id = $1 ORDER BY sku",
        )
        .bind(order_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("exchanges of order"))
    }

    /// The returns of order `order_id`, by SKU.
    pub async fn returns_of_order(&self, order_id: &str) -> Result<Vec<Return>> {
        sqlx::query_as("SELECT id, order_id, sku, reason, created, state FROM returns WHERE order_id = $1 ORDER BY sku")
            .bind(order_id)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("returns of order"))
    }

    /// Records a refund of `amount_cents` for order `order_id` (state `pending`), one per
    /// `cause` (a return id, `cancellation` or `goodwill`); a repeat returns the stored one.
    pub async fn insert_refund(
        &self,
        order_id: &str,
        cause: &str,
        amount_cents: i64,
        created: &str,
    ) -> Result<Upserted<Refund>> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(query_error("insert refund"))?;
        upsert_refund(
            &mut conn,
            "insert refund",
            order_id,
            cause,
            amount_cents,
            created,
        )
        .await
    }

    /// The refunds of order `order_id`, oldest first (empty when there is none).
    pub async fn refund_for_order(&self, order_id: &str) -> Result<Vec<Refund>> {
        sqlx::query_as(
            "SELECT id, order_id, cause, amount_cents, state, created FROM refunds WHERE order_id = $1 ORDER BY created, id",
        )
        .bind(order_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("refund for order"))
    }

    /// Requests the exchange of the item `sku` of order `order_id` for `to_variant`, which must
    /// be a variant of the product with stock; a repeat returns the stored exchange.
    pub async fn request_exchange(
        &self,
        order_id: &str,
        sku: &str,
        to_variant: &str,
        created: &str,
    ) -> Result<Upserted<Exchange>> {
        let from_variant = self.require_item(order_id, sku).await?;
        let returned: Option<String> =
            sqlx::query_scalar("SELECT id FROM returns WHERE order_id = $1 AND sku = $2")
                .bind(order_id)
                .bind(sku)
                .fetch_optional(&self.pool)
                .await
                .map_err(query_error("request exchange"))?;
        if let Some(id) = returned {
            return Err(StoreError::Conflict {
                what: "request exchange",
                detail: format!("{sku} on order {order_id} is being returned ({id})"),
            });
        }
        let in_stock: Option<i64> =
            sqlx::query_scalar("SELECT in_stock FROM stock WHERE sku = $1 AND variant = $2")
                .bind(sku)
                .bind(to_variant)
                .fetch_optional(&self.pool)
                .await
                .map_err(query_error("request exchange"))?;
        match in_stock {
            None => {
                return Err(StoreError::NotFound {
                    what: "variant",
                    key: format!("{sku} {to_variant}"),
                });
            }
            Some(0) => {
                return Err(StoreError::Conflict {
                    what: "request exchange",
                    detail: format!("{sku} {to_variant} is out of stock"),
                });
            }
            Some(_) => {}
        }
        let id = format!("X{order_id}-{sku}");
        let inserted = sqlx::query(
            "INSERT INTO exchanges (id, order_id, sku, from_variant, to_variant, created, state) \
             VALUES ($1, $2, $3, $4, $5, $6, 'requested') ON CONFLICT (order_id, sku) DO NOTHING",
        )
        .bind(&id)
        .bind(order_id)
        .bind(sku)
        .bind(&from_variant)
        .bind(to_variant)
        .bind(created)
        .execute(&self.pool)
        .await
        .map_err(query_error("request exchange"))?
        .rows_affected();
        let row = sqlx::query_as(
            "SELECT id, order_id, sku, from_variant, to_variant, created, state FROM exchanges WHERE order_id = $1 AND sku = $2",
        )
        .bind(order_id)
        .bind(sku)
        .fetch_one(&self.pool)
        .await
        .map_err(query_error("request exchange"))?;
        Ok(Upserted {
            row,
            created: inserted == 1,
        })
    }

    /// Opens a ticket (`complaint` or `transfer`) and returns it with its new id `T000001`...
    pub async fn insert_ticket(&self, t: &NewTicket<'_>) -> Result<Ticket> {
        // Ids are numbered; two writers racing for a number retry with the next one.
        for _ in 0..5 {
            let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets")
                .fetch_one(&self.pool)
                .await
                .map_err(query_error("insert ticket"))?;
            let id = format!("T{:06}", count + 1);
            let result = sqlx::query(
                "INSERT INTO tickets (id, kind, call_id, customer_id, order_id, summary, created, state) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'open') ON CONFLICT (id) DO NOTHING",
            )
            .bind(&id)
            .bind(t.kind)
            .bind(t.call_id)
            .bind(t.customer_id)
            .bind(t.order_id)
            .bind(t.summary)
            .bind(t.created)
            .execute(&self.pool)
            .await
            .map_err(query_error("insert ticket"))?;
            if result.rows_affected() == 1 {
                return Ok(Ticket {
                    id,
                    kind: t.kind.to_string(),
                    call_id: t.call_id.map(str::to_string),
                    customer_id: t.customer_id.map(str::to_string),
                    order_id: t.order_id.map(str::to_string),
                    summary: t.summary.to_string(),
                    created: t.created.to_string(),
                    state: "open".to_string(),
                });
            }
        }
        Err(StoreError::Conflict {
            what: "insert ticket",
            detail: "no free ticket number after 5 tries".into(),
        })
    }

    /// The tickets of call `call_id`, by id.
    pub async fn tickets_of_call(&self, call_id: &str) -> Result<Vec<Ticket>> {
        sqlx::query_as(
            "SELECT id, kind, call_id, customer_id, order_id, summary, created, state FROM tickets WHERE call_id = $1 ORDER BY id",
        )
        .bind(call_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("tickets of call"))
    }

    /// The variant of item `sku` on order `order_id`, or `NotFound` for the order or the item.
    async fn require_item(&self, order_id: &str, sku: &str) -> Result<String> {
        let exists: Option<String> = sqlx::query_scalar("SELECT id FROM orders WHERE id = $1")
            .bind(order_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("order item"))?;
        if exists.is_none() {
            return Err(StoreError::NotFound {
                what: "order",
                key: order_id.to_string(),
            });
        }
        let variant: Option<String> = sqlx::query_scalar(
            "SELECT variant FROM order_items WHERE order_id = $1 AND sku = $2 ORDER BY line",
        )
        .bind(order_id)
        .bind(sku)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("order item"))?;
        variant.ok_or_else(|| StoreError::NotFound {
            what: "item",
            key: format!("{sku} on order {order_id}"),
        })
    }
}

/// Inserts the return of `sku` from order `order_id` unless one is stored, and reads it back
/// (on a pooled connection or inside a transaction).
async fn upsert_return(
    conn: &mut AnyConnection,
    what: &'static str,
    order_id: &str,
    sku: &str,
    reason: &str,
    created: &str,
) -> Result<Upserted<Return>> {
    let inserted = sqlx::query(
        "INSERT INTO returns (id, order_id, sku, reason, created, state) VALUES ($1, $2, $3, $4, $5, 'requested') \
         ON CONFLICT (order_id, sku) DO NOTHING",
    )
    .bind(format!("R{order_id}-{sku}"))
    .bind(order_id)
    .bind(sku)
    .bind(reason)
    .bind(created)
    .execute(&mut *conn)
    .await
    .map_err(query_error(what))?
    .rows_affected();
    let row = sqlx::query_as(
        "SELECT id, order_id, sku, reason, created, state FROM returns WHERE order_id = $1 AND sku = $2",
    )
    .bind(order_id)
    .bind(sku)
    .fetch_one(&mut *conn)
    .await
    .map_err(query_error(what))?;
    Ok(Upserted {
        row,
        created: inserted == 1,
    })
}

/// Inserts a pending refund for order `order_id` and `cause` unless one is stored, and reads
/// it back.
pub(super) async fn upsert_refund(
    conn: &mut AnyConnection,
    what: &'static str,
    order_id: &str,
    cause: &str,
    amount_cents: i64,
    created: &str,
) -> Result<Upserted<Refund>> {
    let inserted = sqlx::query(
        "INSERT INTO refunds (id, order_id, cause, amount_cents, state, created) VALUES ($1, $2, $3, $4, 'pending', $5) \
         ON CONFLICT (order_id, cause) DO NOTHING",
    )
    .bind(format!("F{order_id}-{cause}"))
    .bind(order_id)
    .bind(cause)
    .bind(amount_cents)
    .bind(created)
    .execute(&mut *conn)
    .await
    .map_err(query_error(what))?
    .rows_affected();
    let row = refund_by_cause(conn, what, order_id, cause)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: "refund",
            key: format!("{order_id} {cause}"),
        })?;
    Ok(Upserted {
        row,
        created: inserted == 1,
    })
}

/// The refund of order `order_id` for `cause`, if there is one.
pub(super) async fn refund_by_cause(
    conn: &mut AnyConnection,
    what: &'static str,
    order_id: &str,
    cause: &str,
) -> Result<Option<Refund>> {
    sqlx::query_as(
        "SELECT id, order_id, cause, amount_cents, state, created FROM refunds WHERE order_id = $1 AND cause = $2",
    )
    .bind(order_id)
    .bind(cause)
    .fetch_optional(conn)
    .await
    .map_err(query_error(what))
}
