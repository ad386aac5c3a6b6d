//! The record of calls: each call, its turns with their latencies, every tool call the
//! assistant made (the audit), and the caller's survey score.

use super::model::{AuditEntry, Call, Outcome, Survey, Turn, TurnLatencyMs};
use super::{Result, Store, StoreError, query_error};

impl Store {
    /// Records the start of call `id` on `channel` (`sip`, `webrtc`, `mic`, `text`).
    pub async fn start_call(
        &self,
        id: &str,
        started: &str,
        channel: &str,
        caller: Option<&str>,
    ) -> Result<()> {
        sqlx::query("INSERT INTO calls (id, started, channel, caller) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(started)
            .bind(channel)
            .bind(caller)
            .execute(&self.pool)
            .await
            .map_err(query_error("start call"))?;
        Ok(())
    }

    /// Notes who the caller turned out to be.
    pub async fn identify_caller(&self, call_id: &str, customer_id: &str) -> Result<()> {
        self.update_call(
            call_id,
            "identify caller",
            "UPDATE calls SET customer_id = $2 WHERE id = $1",
            customer_id,
            None,
        )
        .await
    }

    /// Records the end of call `call_id` and how it ended (e.g. `resolved`, `transferred`).
    pub async fn end_call(&self, call_id: &str, ended: &str, outcome: &str) -> Result<()> {
        self.update_call(
            call_id,
            "end call",
            "UPDATE calls SET ended = $2, outcome = $3 WHERE id = $1",
            ended,
            Some(outcome),
        )
        .await
    }

    async fn update_call(
        &self,
        call_id: &str,
        what: &'static str,
        sql: &str,
        a: &str,
        b: Option<&str>,
    ) -> Result<()> {
        let mut q = sqlx::query(sql).bind(call_id).bind(a);
        if let Some(b) = b {
            q = q.bind(b);
        }
        let n = q
            .execute(&self.pool)
            .await
            .map_err(query_error(what))?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "call",
                key: call_id.to_string(),
            });
        }
        Ok(())
    }

    /// The call `id`.
    pub async fn call(&self, id: &str) -> Result<Option<Call>> {
        sqlx::query_as("SELECT id, started, ended, channel, caller, customer_id, outcome FROM calls WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("call"))
    }

    /// Stores one turn (its `idx` must be new for the call).
    pub async fn record_turn(&self, turn: &Turn) -> Result<()> {
        sqlx::query(
            "INSERT INTO turns (call_id, idx, role, text, asr_ms, llm_first_ms, tts_first_ms, end_to_end_ms, answer_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&turn.call_id)
        .bind(turn.idx)
        .bind(&turn.role)
        .bind(&turn.text)
        .bind(turn.asr_ms)
        .bind(turn.llm_first_ms)
        .bind(turn.tts_first_ms)
        .bind(turn.end_to_end_ms)
        .bind(turn.answer_ms)
        .execute(&self.pool)
        .await
        .map_err(query_error("record turn"))?;
        Ok(())
    }

    /// Stores the latency figures of turn `idx` of call `call_id` (measured after it was
    /// recorded: the first audio goes out after the dialog has answered).
    pub async fn set_turn_latency(&self, call_id: &str, idx: i64, l: &TurnLatencyMs) -> Result<()> {
        sqlx::query(
            "UPDATE turns SET asr_ms = $1, llm_first_ms = $2, tts_first_ms = $3, end_to_end_ms = $4, \
             answer_ms = $5 WHERE call_id = $6 AND idx = $7",
        )
        .bind(l.asr_ms)
        .bind(l.llm_first_ms)
        .bind(l.tts_first_ms)
        .bind(l.end_to_end_ms)
        .bind(l.answer_ms)
        .bind(call_id)
        .bind(idx)
        .execute(&self.pool)
        .await
        .map_err(query_error("turn latency"))?;
        Ok(())
    }

    /// The turns of call `call_id` in order.
    pub async fn turns_of_call(&self, call_id: &str) -> Result<Vec<Turn>> {
        sqlx::query_as(
            "SELECT call_id, idx, role, text, asr_ms, llm_first_ms, tts_first_ms, end_to_end_ms, answer_ms FROM turns \
             WHERE call_id = $1 ORDER BY idx",
        )
        .bind(call_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("turns of call"))
    }

    /// Appends a tool call to the audit of call `call_id` and returns its sequence number
    /// (1, 2, ... per call). `args` is the tool's arguments as JSON.
    pub async fn record_audit(
        &self,
        call_id: &str,
        at: &str,
        tool: &str,
        args: &serde_json::Value,
        outcome: Outcome,
        detail: &str,
    ) -> Result<i64> {
        let args = args.to_string();
        // The next number is computed in the insert itself; a racing writer for the same call
        // (there should be none: a call's tools run one at a time) retries.
        for _ in 0..5 {
            let seq: i64 = sqlx::query_scalar(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM tool_audit WHERE call_id = $1",
            )
            .bind(call_id)
            .fetch_one(&self.pool)
            .await
            .map_err(query_error("record audit"))?;
            let n = sqlx::query(
                "INSERT INTO tool_audit (call_id, seq, at, tool, args, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (call_id, seq) DO NOTHING",
            )
            .bind(call_id)
            .bind(seq)
            .bind(at)
            .bind(tool)
            .bind(&args)
            .bind(outcome.as_str())
            .bind(detail)
            .execute(&self.pool)
            .await
            .map_err(query_error("record audit"))?
            .rows_affected();
            if n == 1 {
                return Ok(seq);
            }
        }
        Err(StoreError::Conflict {
            what: "record audit",
            detail: format!("no free sequence number for call {call_id}"),
        })
    }

    /// The audit of call `call_id` in order.
    pub async fn audit_of_call(&self, call_id: &str) -> Result<Vec<AuditEntry>> {
        sqlx::query_as(
            "SELECT call_id, seq, at, tool, args, outcome, detail FROM tool_audit WHERE call_id = $1 ORDER BY seq",
        )
        .bind(call_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("audit of call"))
    }

    /// Records the caller's score (1 to 5) for call `call_id`; a second score replaces the first.
    pub async fn record_survey(&self, call_id: &str, score: i64, at: &str) -> Result<Survey> {
        if !(1..=5).contains(&score) {
            return Err(StoreError::Invalid {
                what: "survey score",
                detail: format!("{score} is not 1 to 5"),
            });
        }
        sqlx::query(
            "INSERT INTO surveys (call_id, score, at) VALUES ($1, $2, $3) \
             ON CONFLICT (call_id) DO UPDATE SET score = excluded.score, at = excluded.at",
        )
        .bind(call_id)
        .bind(score)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(query_error("record survey"))?;
        Ok(Survey {
            call_id: call_id.to_string(),
            score,
            at: at.to_string(),
        })
    }

    /// The survey of call `call_id`, if the caller answered it.
    pub async fn survey(&self, call_id: &str) -> Result<Option<Survey>> {
        sqlx::query_as("SELECT call_id, score, at FROM surveys WHERE call_id = $1")
            .bind(call_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("survey"))
    }
}
