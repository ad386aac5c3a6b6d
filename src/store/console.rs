//! What the supervisor console keeps: its users (argon2 hashes only), the supervisors' notes on
//! calls, and the reads behind call history and the KPIs.

use serde::Serialize;
use sqlx::FromRow;

use super::model::Call;
use super::{Result, Store, StoreError, query_error};

/// A console user. `password_hash` is an argon2 PHC string.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ConsoleUser {
    pub name: String,
    /// `supervisor` or `admin`.
    pub role: String,
    pub password_hash: String,
    pub created: String,
}

/// Something a supervisor did on a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct CallNote {
    pub call_id: String,
    pub seq: i64,
    pub at: String,
    pub author: String,
    /// `guidance`, `said`, `take-over`, `hand-back`, `hang-up`, `pick-up`.
    pub kind: String,
    pub text: String,
}

/// Which past calls to list. Empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct CallSearch {
    /// The caller's number, or a part of it.
    pub phone: Option<String>,
    /// An order number a tool call or a turn of the call names.
    pub order: Option<String>,
    /// Calls started on or after this date or timestamp.
    pub from: Option<String>,
    /// Calls started before the end of this date (or before this timestamp).
    pub to: Option<String>,
    pub limit: i64,
}

/// A call's latency figures for one caller turn (milliseconds).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct TurnTimes {
    pub asr_ms: Option<i64>,
    pub llm_first_ms: Option<i64>,
    pub tts_first_ms: Option<i64>,
    pub end_to_end_ms: Option<i64>,
    pub answer_ms: Option<i64>,
}

/// A hand-over's ticket: why the assistant passed the call on.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct TransferTicket {
    pub call_id: Option<String>,
    pub summary: String,
    pub created: String,
}

/// `%text%` for LIKE, with LIKE's own wildcards taken literally.
fn contains_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

impl Store {
    /// Adds a console user; a name already taken is a `Conflict`.
    pub async fn add_console_user(
        &self,
        name: &str,
        role: &str,
        password_hash: &str,
        created: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO console_users (name, role, password_hash, created) VALUES ($1, $2, $3, $4)",
        )
        .bind(name)
        .bind(role)
        .bind(password_hash)
        .bind(created)
        .execute(&self.pool)
        .await
        .map_err(query_error("add console user"))?;
        Ok(())
    }

    /// Replaces a user's password hash and role.
    pub async fn update_console_user(
        &self,
        name: &str,
        role: &str,
        password_hash: &str,
    ) -> Result<()> {
        let n =
            sqlx::query("UPDATE console_users SET role = $2, password_hash = $3 WHERE name = $1")
                .bind(name)
                .bind(role)
                .bind(password_hash)
                .execute(&self.pool)
                .await
                .map_err(query_error("update console user"))?
                .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "console user",
                key: name.to_string(),
            });
        }
        Ok(())
    }

    /// Removes a user; false when there was none.
    pub async fn remove_console_user(&self, name: &str) -> Result<bool> {
        let n = sqlx::query("DELETE FROM console_users WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(query_error("remove console user"))?
            .rows_affected();
        Ok(n > 0)
    }

    pub async fn console_user(&self, name: &str) -> Result<Option<ConsoleUser>> {
        sqlx::query_as(
            "SELECT name, role, password_hash, created FROM console_users WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("console user"))
    }

    pub async fn console_users(&self) -> Result<Vec<ConsoleUser>> {
        sqlx::query_as("SELECT name, role, password_hash, created FROM console_users ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("console users"))
    }

    /// Records what a supervisor did on a call; returns its number in the call.
    pub async fn record_note(
        &self,
        call_id: &str,
        at: &str,
        author: &str,
        kind: &str,
        text: &str,
    ) -> Result<i64> {
        for _ in 0..5 {
            let seq: i64 = sqlx::query_scalar(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM call_notes WHERE call_id = $1",
            )
            .bind(call_id)
            .fetch_one(&self.pool)
            .await
            .map_err(query_error("record note"))?;
            let n = sqlx::query(
                "INSERT INTO call_notes (call_id, seq, at, author, kind, text) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (call_id, seq) DO NOTHING",
            )
            .bind(call_id)
            .bind(seq)
            .bind(at)
            .bind(author)
            .bind(kind)
            .bind(text)
            .execute(&self.pool)
            .await
            .map_err(query_error("record note"))?
            .rows_affected();
            if n == 1 {
                return Ok(seq);
            }
        }
        Err(StoreError::Conflict {
            what: "record note",
            detail: format!("no free sequence number for call {call_id}"),
        })
    }

    pub async fn notes_of_call(&self, call_id: &str) -> Result<Vec<CallNote>> {
        sqlx::query_as(
            "SELECT call_id, seq, at, author, kind, text FROM call_notes WHERE call_id = $1 ORDER BY seq",
        )
        .bind(call_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("notes of call"))
    }

    /// Past and present calls, newest first.
    pub async fn search_calls(&self, search: &CallSearch) -> Result<Vec<Call>> {
        let to = search.to.as_ref().map(|t| {
            // A bare date means up to the end of that day.
            if t.len() == 10 {
                format!("{t}T23:59:60Z")
            } else {
                t.clone()
            }
        });
        sqlx::query_as(
            "SELECT id, started, ended, channel, caller, customer_id, outcome FROM calls c \
             WHERE ($1 IS NULL OR c.caller LIKE $1 ESCAPE '\\') \
               AND ($2 IS NULL OR EXISTS (SELECT 1 FROM tool_audit a WHERE a.call_id = c.id AND a.args LIKE $2 ESCAPE '\\') \
                               OR EXISTS (SELECT 1 FROM turns t WHERE t.call_id = c.id AND t.text LIKE $2 ESCAPE '\\')) \
               AND ($3 IS NULL OR c.started >= $3) \
               AND ($4 IS NULL OR c.started <= $4) \
             ORDER BY c.started DESC, c.id LIMIT $5",
        )
        .bind(search.phone.as_deref().map(contains_pattern))
        .bind(search.order.as_deref().map(contains_pattern))
        .bind(search.from.as_deref())
        .bind(to.as_deref())
        .bind(search.limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("search calls"))
    }

    /// Calls started at or after `from` (at most `limit`), for the KPIs.
    pub async fn calls_since(&self, from: &str, limit: i64) -> Result<Vec<Call>> {
        sqlx::query_as(
            "SELECT id, started, ended, channel, caller, customer_id, outcome FROM calls \
             WHERE started >= $1 ORDER BY started DESC LIMIT $2",
        )
        .bind(from)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("calls since"))
    }

    /// The measured caller turns of calls started at or after `from`.
    pub async fn turn_times_since(&self, from: &str, limit: i64) -> Result<Vec<TurnTimes>> {
        sqlx::query_as(
            "SELECT t.asr_ms, t.llm_first_ms, t.tts_first_ms, t.end_to_end_ms, t.answer_ms \
             FROM turns t JOIN calls c ON c.id = t.call_id \
             WHERE c.started >= $1 AND t.role = 'caller' AND t.end_to_end_ms IS NOT NULL LIMIT $2",
        )
        .bind(from)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("turn times since"))
    }

    /// Hand-over tickets created at or after `from`.
    pub async fn transfers_since(&self, from: &str, limit: i64) -> Result<Vec<TransferTicket>> {
        sqlx::query_as(
            "SELECT call_id, summary, created FROM tickets WHERE kind = 'transfer' AND created >= $1 \
             ORDER BY created DESC LIMIT $2",
        )
        .bind(from)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("transfers since"))
    }

    /// Survey scores given at or after `from`.
    pub async fn survey_scores_since(&self, from: &str) -> Result<Vec<i64>> {
        sqlx::query_scalar("SELECT score FROM surveys WHERE at >= $1")
            .bind(from)
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("survey scores since"))
    }
}
