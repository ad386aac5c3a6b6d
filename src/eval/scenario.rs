//! The scenario file format (YAML), as the dialog-core issue fixes it:
//!
//! ```yaml
//! name: return-headphones
//! now: "2026-11-28"
//! caller_id: "+15551230001"     # omit for an unknown caller
//! fixture: { customers: [...], products: [...], orders: [...] }
//! turns: ["Hi, I want to return the headphones from order 100042.", "Yes, please go ahead."]
//! expect:
//!   tools: [{ name: start_return, args: { order_id: "100042", sku: "HP-200" }, outcome: ok }]
//!   reply_contains: [["return"]]   # each entry in some reply; a list means any one of these
//!   transferred: false
//! forbid:
//!   tools: [cancel_order]          # never called with outcome ok
//!   reply_contains: ["Bob Li"]
//! ```
//!
//! Unknown fields, unknown tools and outcomes, bad dates and inconsistent fixtures are errors
//! naming the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::store::{Fixture, day_of_date};

/// One scripted conversation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    /// `YYYY-MM-DD`: the clock for return windows and dates.
    pub now: String,
    #[serde(default)]
    pub caller_id: Option<String>,
    /// The greeting's language, `en` (default) or `zh` (as a shop's Mandarin line or page
    /// sets it); the conversation follows the language the caller speaks either way.
    #[serde(default)]
    pub language: crate::dialog::language::Language,
    #[serde(default)]
    pub fixture: Fixture,
    pub turns: Vec<CallerTurn>,
    #[serde(default)]
    pub expect: Expect,
    /// The phone line of voice runs (`hotline eval --voice`); text runs ignore it.
    #[serde(default)]
    pub line: Option<LineSpec>,
    #[serde(default)]
    pub forbid: Forbid,
    /// The file it came from.
    #[serde(skip)]
    pub path: PathBuf,
}

/// One caller turn: what the caller says, or, in voice runs, said over the assistant's reply
/// (`barge_in_after_ms` after it began) or keyed on the phone's pad (`dtmf`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum CallerTurn {
    Say(String),
    Voice(VoiceTurn),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoiceTurn {
    #[serde(default)]
    pub say: Option<String>,
    #[serde(default)]
    pub barge_in_after_ms: Option<u64>,
    /// Keys pressed instead of speaking, e.g. `"100042#"`.
    #[serde(default)]
    pub dtmf: Option<String>,
    /// A short sound over the assistant's reply ("uh-huh"), with `barge_in_after_ms`: it must
    /// not interrupt, and it is not a turn (text runs skip it).
    #[serde(default)]
    pub backchannel: bool,
    /// After `say`, the caller is silent this long and goes on with `then_say` (voice runs; a
    /// text run sends both as one message).
    #[serde(default)]
    pub pause_ms: Option<u64>,
    #[serde(default)]
    pub then_say: Option<String>,
}

/// The longest pause inside a caller's turn (a voice run waits 40 s for an answer).
const MAX_PAUSE_MS: u64 = 10_000;

impl CallerTurn {
    /// The turn as text (a text run types DTMF digits as they are).
    pub fn text(&self) -> String {
        match self {
            CallerTurn::Say(text) => text.clone(),
            CallerTurn::Voice(v) => match (&v.say, &v.then_say) {
                (Some(say), Some(more)) => format!("{say} {more}"),
                _ => v
                    .say
                    .clone()
                    .or_else(|| v.dtmf.as_ref().map(|d| d.trim_end_matches('#').to_string()))
                    .unwrap_or_default(),
            },
        }
    }

    /// What a voice run's caller says, in parts: the words, then the silence after them.
    pub fn spoken_parts(&self) -> Vec<(String, std::time::Duration)> {
        match self {
            CallerTurn::Voice(VoiceTurn {
                say: Some(say),
                then_say: Some(more),
                pause_ms,
                ..
            }) => vec![
                (
                    say.clone(),
                    std::time::Duration::from_millis(pause_ms.unwrap_or(0)),
                ),
                (more.clone(), std::time::Duration::ZERO),
            ],
            _ => vec![(self.text(), std::time::Duration::ZERO)],
        }
    }

    pub fn barge_in_after(&self) -> Option<std::time::Duration> {
        match self {
            CallerTurn::Voice(v) => v.barge_in_after_ms.map(std::time::Duration::from_millis),
            CallerTurn::Say(_) => None,
        }
    }

    pub fn is_backchannel(&self) -> bool {
        matches!(self, CallerTurn::Voice(v) if v.backchannel)
    }

    pub fn dtmf(&self) -> Option<&str> {
        match self {
            CallerTurn::Voice(v) => v.dtmf.as_deref(),
            CallerTurn::Say(_) => None,
        }
    }
}

/// The line a voice run calls over.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineSpec {
    /// The assistant's own voice returned on the caller's side at this level (dB, e.g. -12).
    #[serde(default)]
    pub echo_db: Option<f32>,
    #[serde(default = "default_echo_delay")]
    pub echo_delay_ms: u64,
}

fn default_echo_delay() -> u64 {
    60
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Must all happen, in this order; other calls may come between.
    #[serde(default)]
    pub tools: Vec<ExpectedTool>,
    #[serde(default)]
    pub reply_contains: Vec<Needle>,
    #[serde(default)]
    pub transferred: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedTool {
    pub name: String,
    /// Compared as strings, trimmed, case-insensitive; other arguments may be present.
    #[serde(default)]
    pub args: BTreeMap<String, Value>,
    /// `ok`, `denied` or `error`; any when absent.
    #[serde(default)]
    pub outcome: Option<String>,
}

/// Text that must appear: one string, or a list of which any one will do.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Needle {
    One(String),
    Any(Vec<String>),
}

impl Needle {
    pub fn options(&self) -> Vec<&str> {
        match self {
            Needle::One(s) => vec![s.as_str()],
            Needle::Any(list) => list.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Forbid {
    #[serde(default)]
    pub tools: Vec<String>,
    #[serde(default)]
    pub reply_contains: Vec<String>,
}

/// A scenario file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{}: {detail}", path.display())]
pub struct ScenarioError {
    pub path: PathBuf,
    pub detail: String,
}

const OUTCOMES: [&str; 3] = ["ok", "denied", "error"];

impl Scenario {
    /// Parses and checks one scenario file's text.
    pub fn parse(path: &Path, text: &str) -> Result<Scenario, ScenarioError> {
        let err = |detail: String| ScenarioError {
            path: path.to_owned(),
            detail,
        };
        let mut scenario: Scenario =
            serde_yaml_ng::from_str(text).map_err(|e| err(e.to_string()))?;
        scenario.path = path.to_owned();
        scenario.validate().map_err(err)?;
        Ok(scenario)
    }

    /// The scenario's day, days since 1970-01-01.
    pub fn today(&self) -> i64 {
        day_of_date(&self.now).unwrap_or(0)
    }

    fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err("name is empty".into());
        }
        if day_of_date(&self.now).is_none() || self.now.len() != 10 {
            return Err(format!("now {:?} is not a YYYY-MM-DD date", self.now));
        }
        if self.turns.is_empty() {
            return Err("no caller turns".into());
        }
        for (i, turn) in self.turns.iter().enumerate() {
            if let CallerTurn::Voice(v) = turn {
                let digits_ok = v.dtmf.as_ref().is_none_or(|d| {
                    !d.is_empty()
                        && d.chars()
                            .all(|c| c.is_ascii_digit() || c == '#' || c == '*')
                });
                if v.say.is_some() == v.dtmf.is_some() || !digits_ok {
                    return Err(format!(
                        "turns[{i}]: give either say or dtmf (digits, # and * only)"
                    ));
                }
                if v.dtmf.is_some() && v.barge_in_after_ms.is_some() {
                    return Err(format!("turns[{i}]: barge_in_after_ms goes with say"));
                }
                if v.pause_ms.is_some() != v.then_say.is_some()
                    || (v.then_say.is_some() && v.say.is_none())
                    || v.pause_ms.is_some_and(|ms| ms > MAX_PAUSE_MS)
                {
                    return Err(format!(
                        "turns[{i}]: pause_ms (at most {MAX_PAUSE_MS}) and then_say go together, after say"
                    ));
                }
                if v.backchannel && v.barge_in_after_ms.is_none() {
                    return Err(format!(
                        "turns[{i}]: a backchannel is said over a reply: give barge_in_after_ms"
                    ));
                }
            }
        }
        if let Some(line) = &self.line
            && (line.echo_db.is_some_and(|db| !(-60.0..=0.0).contains(&db))
                || line.echo_delay_ms > 500)
        {
            return Err(
                "line: echo_db must be between -60 and 0, echo_delay_ms at most 500".into(),
            );
        }
        let known = |name: &str| crate::dialog::tools::tool_name(name).is_some();
        for tool in &self.expect.tools {
            if !known(&tool.name) {
                return Err(format!("expect.tools: unknown tool {:?}", tool.name));
            }
            if let Some(outcome) = &tool.outcome
                && !OUTCOMES.contains(&outcome.as_str())
            {
                return Err(format!(
                    "expect.tools: outcome {outcome:?} of {} is not ok, denied or error",
                    tool.name
                ));
            }
            for (key, value) in &tool.args {
                if value.is_object() || value.is_array() {
                    return Err(format!(
                        "expect.tools: argument {key} of {} must be a plain value",
                        tool.name
                    ));
                }
            }
        }
        for name in &self.forbid.tools {
            if !known(name) {
                return Err(format!("forbid.tools: unknown tool {name:?}"));
            }
        }
        if self
            .expect
            .reply_contains
            .iter()
            .any(|n| n.options().is_empty() || n.options().iter().any(|o| o.trim().is_empty()))
        {
            return Err("expect.reply_contains: empty entry".into());
        }
        self.fixture
            .to_shop()
            .map_err(|e| format!("fixture: {e}"))?;
        Ok(())
    }
}

/// Loads every scenario in `paths` (files, or folders searched for `*.yaml` / `*.yml`),
/// sorted by path. All problems are reported together; duplicate names are one.
pub fn load_scenarios(paths: &[PathBuf]) -> Result<Vec<Scenario>, Vec<ScenarioError>> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        collect(path, &mut files, &mut errors);
    }
    files.sort();
    files.dedup();
    if files.is_empty() && errors.is_empty() {
        errors.push(ScenarioError {
            path: paths.first().cloned().unwrap_or_default(),
            detail: "no scenario files (*.yaml) found".into(),
        });
    }
    let mut scenarios: Vec<Scenario> = Vec::new();
    for file in files {
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) => {
                errors.push(ScenarioError {
                    path: file,
                    detail: e.to_string(),
                });
                continue;
            }
        };
        match Scenario::parse(&file, &text) {
            Ok(s) => {
                if let Some(first) = scenarios.iter().find(|o| o.name == s.name) {
                    errors.push(ScenarioError {
                        path: file,
                        detail: format!(
                            "name {:?} is already used by {}",
                            s.name,
                            first.path.display()
                        ),
                    });
                } else {
                    scenarios.push(s);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(scenarios)
    } else {
        Err(errors)
    }
}

fn collect(path: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<ScenarioError>) {
    if path.is_file() {
        files.push(path.to_owned());
        return;
    }
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(ScenarioError {
                path: path.to_owned(),
                detail: e.to_string(),
            });
            return;
        }
    };
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            collect(&p, files, errors);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            files.push(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name: t
now: "2026-11-28"
fixture:
  customers: [{ id: C1, name: "A B", phone: "+15550000001", email: "a@b.co", zip: "94107" }]
turns: ["hi"]
expect:
  tools: [{ name: record_survey, args: { score: 4 }, outcome: ok }]
  reply_contains: [["hello", "hi"], "thanks"]
  transferred: false
forbid: { tools: [cancel_order], reply_contains: ["secret"] }
"#;

    #[test]
    fn reads_the_issue_format() {
        let s = Scenario::parse(Path::new("t.yaml"), GOOD).unwrap();
        assert_eq!(s.expect.tools[0].args["score"], Value::from(4));
        assert_eq!(s.expect.reply_contains[0].options(), ["hello", "hi"]);
        assert_eq!(s.expect.reply_contains[1].options(), ["thanks"]);
        assert_eq!(s.expect.transferred, Some(false));
    }

    #[test]
    fn bad_files_are_clear_errors() {
        for (bad, says) in [
            (GOOD.replace("name: t", "name: t\nextra: 1"), "unknown field `extra`"),
            (GOOD.replace("record_survey", "refund_everything"), "unknown tool"),
            (GOOD.replace("outcome: ok", "outcome: fine"), "outcome \"fine\""),
            (GOOD.replace("2026-11-28", "yesterday"), "not a YYYY-MM-DD date"),
            (GOOD.replace("turns: [\"hi\"]", "turns: []"), "no caller turns"),
            (GOOD.replace("turns: [\"hi\"]", "turns: [{ say: hi, pause_ms: 900 }]"), "then_say go together"),
            (GOOD.replace("turns: [\"hi\"]", "turns: [{ say: hi, pause_ms: 99999999999, then_say: yes }]"), "at most 10000"),
            ("name: [unclosed".to_string(), "name"),
            (GOOD.replace("zip: \"94107\" }]", "zip: \"94107\" }]\n  orders: [{ id: \"1\", customer: C9, placed: \"2026-01-01\", status: placed, items: [] }]"), "fixture"),
        ] {
            let e = Scenario::parse(Path::new("bad.yaml"), &bad).unwrap_err();
            assert!(e.to_string().contains(says), "{e} should say {says}");
            assert!(e.to_string().starts_with("bad.yaml: "), "{e}");
        }
    }
}
