//! Running a scenario: a fresh SQLite shop from its fixture, a session on the scenario's
//! clock, the caller's turns one by one, and what came back.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use super::check::Verdict;
use super::scenario::Scenario;
use crate::dialog::extract::Extractor;
use crate::dialog::planner::Planner;
use crate::dialog::session::{Clock, Session, SessionOptions, ToolRecord};
use crate::store::{Store, load_fixture};

/// What happened in one scenario.
#[derive(Debug, Clone, Default)]
pub struct ScenarioRun {
    /// The greeting, then every reply in order.
    pub replies: Vec<String>,
    pub tools: Vec<ToolRecord>,
    /// Audit entries the database holds for the call (should equal `tools.len()`).
    pub audited: usize,
    pub transferred: bool,
    /// Caller turns taken (fewer than scripted when the call ended early).
    pub turns_taken: usize,
    /// Milliseconds from each caller turn to its replies.
    pub turn_ms: Vec<f64>,
    /// The verified caller at the end.
    pub customer_id: Option<String>,
    /// Index of the first reply given after the caller was verified.
    pub verified_from: Option<usize>,
    /// The scenario could not run (database, fixture).
    pub error: Option<String>,
    /// Caller and assistant lines, for `--verbose`.
    pub transcript: Vec<String>,
}

/// A fresh SQLite shop in `dir` holding the scenario's fixture; returns the store, its file
/// and the file stem (the scenario's name made safe).
pub async fn scenario_store(
    scenario: &Scenario,
    dir: &Path,
) -> Result<(Store, PathBuf, String), String> {
    let file: String = scenario
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let path = dir.join(format!("{file}.db"));
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let store = Store::open(&url).await.map_err(|e| e.to_string())?;
    if let Err(e) = load_fixture(&store, &scenario.fixture).await {
        store.close().await;
        return Err(format!("fixture: {e}"));
    }
    Ok((store, path, file))
}

/// Runs `scenario` with a database file in `dir` (removed afterwards).
pub async fn run_scenario(
    scenario: &Scenario,
    planner: &Planner,
    extract: &Arc<Extractor>,
    dir: &Path,
    use_lexicon: bool,
) -> ScenarioRun {
    let mut run = ScenarioRun::default();
    let (store, path, file) = match scenario_store(scenario, dir).await {
        Ok(opened) => opened,
        Err(e) => {
            run.error = Some(e);
            return run;
        }
    };
    let call_id = format!("eval-{file}");
    let (mut session, opening) = Session::start(
        store.clone(),
        planner.clone(),
        extract.clone(),
        SessionOptions {
            call_id: call_id.clone(),
            channel: "text".into(),
            caller_id: scenario.caller_id.clone(),
            known_customer: None,
            live_transfer: true,
            clock: Clock::Fixed(scenario.today()),
            language: scenario.language,
            use_lexicon,
            redact: None,
        },
    )
    .await;
    for reply in &opening.replies {
        run.transcript.push(format!("assistant: {reply}"));
    }
    run.replies.extend(opening.replies);
    run.tools.extend(opening.tools);
    if session.customer().is_some() {
        run.verified_from = Some(0);
    }
    for turn in &scenario.turns {
        if session.ended() {
            break;
        }
        if turn.is_backchannel() {
            continue;
        }
        let turn = &turn.text();
        run.transcript.push(format!("caller:    {turn}"));
        let first_reply = run.replies.len();
        let started = Instant::now();
        let out = session.handle(turn).await;
        run.turn_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        run.turns_taken += 1;
        for tool in &out.tools {
            run.transcript.push(format!(
                "  tool:    {} {} -> {} ({})",
                tool.name,
                tool.args,
                tool.outcome.as_str(),
                tool.detail
            ));
        }
        for reply in &out.replies {
            run.transcript.push(format!("assistant: {reply}"));
        }
        run.replies.extend(out.replies);
        run.tools.extend(out.tools);
        run.transferred |= out.transferred;
        if run.verified_from.is_none() && session.customer().is_some() {
            run.verified_from = Some(first_reply);
        }
    }
    run.customer_id = session.customer().map(|c| c.id.clone());
    run.audited = store.audit_of_call(&call_id).await.map_or(0, |a| a.len());
    store.close().await;
    let _ = std::fs::remove_file(&path);
    run
}

/// The figures of a whole suite, printed as the last line of `hotline eval`.
#[derive(Debug, Clone, Serialize)]
pub struct EvalSummary {
    pub scenarios: usize,
    pub passed: usize,
    pub task_success: f64,
    pub tool_accuracy: f64,
    pub leaks: usize,
    pub mean_turns: f64,
    pub p50_reply_ms: f64,
    pub p95_reply_ms: f64,
    /// The eval process's peak resident memory (all models loaded), where the OS tells it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_rss_mb: Option<f64>,
}

/// Sums up the verdicts: task success = scenarios passed / run; tool accuracy = expected
/// tool calls that happened as expected / all expected; leaks = scenarios where a reply held
/// another customer's data or a forbidden string; p50 and p95 over every caller turn (nearest
/// rank). Peak memory is the caller's to fill in (`super::memory::peak_rss_mb`).
pub fn summarize(runs: &[(ScenarioRun, Verdict)]) -> EvalSummary {
    let n = runs.len();
    let passed = runs.iter().filter(|(_, v)| v.passed()).count();
    let expected: usize = runs.iter().map(|(_, v)| v.expected_tools).sum();
    let matched: usize = runs.iter().map(|(_, v)| v.matched_tools).sum();
    let leaks = runs.iter().filter(|(_, v)| !v.leaks.is_empty()).count();
    let turns: usize = runs.iter().map(|(r, _)| r.turns_taken).sum();
    let mut ms: Vec<f64> = runs.iter().flat_map(|(r, _)| r.turn_ms.clone()).collect();
    ms.sort_by(f64::total_cmp);
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    let round = |x: f64, places: i32| {
        let f = 10f64.powi(places);
        (x * f).round() / f
    };
    EvalSummary {
        scenarios: n,
        passed,
        task_success: round(ratio(passed, n), 3),
        tool_accuracy: round(ratio(matched, expected), 3),
        leaks,
        mean_turns: round(if n == 0 { 0.0 } else { turns as f64 / n as f64 }, 2),
        p50_reply_ms: round(ms.get(ms.len() / 2).copied().unwrap_or(0.0), 1),
        p95_reply_ms: quantile(&ms, 0.95),
        peak_rss_mb: None,
    }
}

/// The `q` quantile (nearest rank) of `values`, rounded to 0.1; 0 for none.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    (v[rank - 1] * 10.0).round() / 10.0
}
