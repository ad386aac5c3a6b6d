//! The figures product owners judge the assistant by, over a window of recent calls: calls per
//! hour, containment (calls resolved without a person), transfer reasons, average handle time,
//! post-call satisfaction, and latency p50/p95 per stage. Computed here from the stored calls,
//! the same for the dashboard (JSON) and for `/metrics` (Prometheus text).

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::store::console::{TransferTicket, TurnTimes};
use crate::store::model::Call;
use crate::store::unix_of;

/// Hours the calls-per-hour plot shows.
pub const HOURS_PLOTTED: i64 = 24;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StageLatency {
    pub stage: &'static str,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub turns: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Kpis {
    pub window_hours: u64,
    pub calls: usize,
    pub in_progress: usize,
    /// Ended calls by how they ended.
    pub resolved: usize,
    pub transferred: usize,
    pub abandoned: usize,
    /// Ended calls no person had to take: resolved or abandoned, over all ended calls.
    pub containment: Option<f64>,
    /// Calls started in each of the last `HOURS_PLOTTED` hours (`YYYY-MM-DDTHH`, oldest first).
    pub calls_per_hour: Vec<(String, usize)>,
    /// Why the assistant handed calls over, most frequent first.
    pub transfer_reasons: Vec<(String, usize)>,
    pub average_handle_s: Option<f64>,
    pub satisfaction: Option<f64>,
    pub surveys: usize,
    pub latency: Vec<StageLatency>,
}

/// The `q` quantile (nearest rank) of `values`.
fn quantile(values: &mut [i64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    Some(values[rank - 1] as f64)
}

/// "Reason: X. Caller said: ..." in a hand-over summary: X.
fn reason_of(summary: &str) -> String {
    summary
        .split_once("Reason: ")
        .map(|(_, rest)| rest.split(". Caller said").next().unwrap_or(rest))
        .unwrap_or("not given")
        .trim_end_matches('.')
        .to_string()
}

fn hour_label(unix: i64) -> String {
    let stamp = crate::store::date_of_day(unix.div_euclid(86_400));
    format!("{stamp}T{:02}", unix.rem_euclid(86_400) / 3600)
}

impl Kpis {
    pub fn compute(
        calls: &[Call],
        transfers: &[TransferTicket],
        scores: &[i64],
        times: &[TurnTimes],
        now_unix: i64,
        window_hours: u64,
    ) -> Kpis {
        let ended: Vec<&Call> = calls.iter().filter(|c| c.ended.is_some()).collect();
        let count = |o: &str| {
            ended
                .iter()
                .filter(|c| c.outcome.as_deref() == Some(o))
                .count()
        };
        let (resolved, transferred, abandoned) =
            (count("resolved"), count("transferred"), count("abandoned"));
        let containment =
            (!ended.is_empty()).then(|| 1.0 - transferred as f64 / ended.len() as f64);
        let this_hour = now_unix - now_unix.rem_euclid(3600);
        let mut per_hour: BTreeMap<i64, usize> = (0..HOURS_PLOTTED)
            .map(|i| (this_hour - i * 3600, 0))
            .collect();
        let mut handle = Vec::new();
        for call in calls {
            let Some(start) = unix_of(&call.started) else {
                continue;
            };
            if let Some(n) = per_hour.get_mut(&(start - start.rem_euclid(3600))) {
                *n += 1;
            }
            if let Some(end) = call.ended.as_deref().and_then(unix_of)
                && end >= start
            {
                handle.push(end - start);
            }
        }
        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        for t in transfers {
            *reasons.entry(reason_of(&t.summary)).or_default() += 1;
        }
        let mut transfer_reasons: Vec<(String, usize)> = reasons.into_iter().collect();
        transfer_reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let stage = |name: &'static str, pick: fn(&TurnTimes) -> Option<i64>| {
            let mut v: Vec<i64> = times.iter().filter_map(pick).collect();
            StageLatency {
                stage: name,
                turns: v.len(),
                p50_ms: quantile(&mut v, 0.5),
                p95_ms: quantile(&mut v, 0.95),
            }
        };
        Kpis {
            window_hours,
            calls: calls.len(),
            in_progress: calls.len() - ended.len(),
            resolved,
            transferred,
            abandoned,
            containment,
            calls_per_hour: per_hour
                .into_iter()
                .map(|(h, n)| (hour_label(h), n))
                .collect(),
            transfer_reasons,
            average_handle_s: (!handle.is_empty())
                .then(|| handle.iter().sum::<i64>() as f64 / handle.len() as f64),
            satisfaction: (!scores.is_empty())
                .then(|| scores.iter().sum::<i64>() as f64 / scores.len() as f64),
            surveys: scores.len(),
            latency: vec![
                stage("transcript", |t| t.asr_ms),
                stage("first_token", |t| t.llm_first_ms),
                stage("first_audio_after_token", |t| t.tts_first_ms),
                stage("voice_to_voice", |t| t.end_to_end_ms),
                stage("answer", |t| t.answer_ms),
            ],
        }
    }

    /// The figures in Prometheus' text format, with `live_calls` (calls in progress now).
    pub fn prometheus(&self, live_calls: usize) -> String {
        let mut out = String::new();
        let mut gauge = |name: &str, help: &str, value: f64| {
            let _ = writeln!(out, "# HELP hotline_{name} {help}");
            let _ = writeln!(out, "# TYPE hotline_{name} gauge");
            let _ = writeln!(out, "hotline_{name} {value}");
        };
        let w = self.window_hours;
        gauge("live_calls", "Calls in progress now.", live_calls as f64);
        gauge(
            "calls",
            &format!("Calls started in the last {w} hours."),
            self.calls as f64,
        );
        if let Some(c) = self.containment {
            gauge(
                "containment_ratio",
                &format!("Ended calls of the last {w} hours that no person had to take."),
                c,
            );
        }
        if let Some(s) = self.average_handle_s {
            gauge(
                "average_handle_seconds",
                &format!("Average length of the ended calls of the last {w} hours."),
                s,
            );
        }
        if let Some(s) = self.satisfaction {
            gauge(
                "satisfaction_score",
                &format!("Average post-call survey score (1-5) of the last {w} hours."),
                s,
            );
        }
        let _ = writeln!(
            out,
            "# HELP hotline_calls_ended Ended calls of the last {w} hours by outcome."
        );
        let _ = writeln!(out, "# TYPE hotline_calls_ended gauge");
        for (outcome, n) in [
            ("resolved", self.resolved),
            ("transferred", self.transferred),
            ("abandoned", self.abandoned),
        ] {
            let _ = writeln!(out, "hotline_calls_ended{{outcome=\"{outcome}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP hotline_transfers Hand-overs of the last {w} hours by reason."
        );
        let _ = writeln!(out, "# TYPE hotline_transfers gauge");
        for (reason, n) in &self.transfer_reasons {
            let reason = reason
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', " ");
            let _ = writeln!(out, "hotline_transfers{{reason=\"{reason}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP hotline_latency_ms Turn latency by stage over the last {w} hours (ms from the end of the caller's speech unless named otherwise)."
        );
        let _ = writeln!(out, "# TYPE hotline_latency_ms gauge");
        for s in &self.latency {
            for (q, v) in [("0.5", s.p50_ms), ("0.95", s.p95_ms)] {
                if let Some(v) = v {
                    let _ = writeln!(
                        out,
                        "hotline_latency_ms{{stage=\"{}\",quantile=\"{q}\"}} {v}",
                        s.stage
                    );
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: &str, started: &str, ended: Option<&str>, outcome: Option<&str>) -> Call {
        Call {
            id: id.into(),
            started: started.into(),
            ended: ended.map(Into::into),
            channel: "sip".into(),
            caller: None,
            customer_id: None,
            outcome: outcome.map(Into::into),
        }
    }

    fn times(v2v: i64) -> TurnTimes {
        TurnTimes {
            asr_ms: Some(v2v / 2),
            llm_first_ms: None,
            tts_first_ms: Some(100),
            end_to_end_ms: Some(v2v),
            answer_ms: Some(v2v + 200),
        }
    }

    #[test]
    fn figures_from_calls() {
        let now = unix_of("2026-11-28T12:30:00Z").unwrap();
        let calls = [
            call(
                "a",
                "2026-11-28T12:00:00Z",
                Some("2026-11-28T12:02:00Z"),
                Some("resolved"),
            ),
            call(
                "b",
                "2026-11-28T11:10:00Z",
                Some("2026-11-28T11:14:00Z"),
                Some("transferred"),
            ),
            call(
                "c",
                "2026-11-28T11:20:00Z",
                Some("2026-11-28T11:21:00Z"),
                Some("abandoned"),
            ),
            call("d", "2026-11-28T12:20:00Z", None, None),
        ];
        let transfers = [TransferTicket {
            call_id: Some("b".into()),
            summary:
                "Ann (C1), verified. Reason: the caller asked for a person. Caller said: agent"
                    .into(),
            created: "2026-11-28T11:14:00Z".into(),
        }];
        let k = Kpis::compute(
            &calls,
            &transfers,
            &[5, 4],
            &[times(800), times(1000), times(1400)],
            now,
            168,
        );
        assert_eq!(
            (
                k.calls,
                k.in_progress,
                k.resolved,
                k.transferred,
                k.abandoned
            ),
            (4, 1, 1, 1, 1)
        );
        assert!((k.containment.unwrap() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(k.calls_per_hour.len(), HOURS_PLOTTED as usize);
        assert_eq!(
            k.calls_per_hour.last().unwrap(),
            &("2026-11-28T12".to_string(), 2)
        );
        assert_eq!(k.calls_per_hour[HOURS_PLOTTED as usize - 2].1, 2);
        assert_eq!(
            k.transfer_reasons,
            vec![("the caller asked for a person".to_string(), 1)]
        );
        assert_eq!(k.average_handle_s, Some((120.0 + 240.0 + 60.0) / 3.0));
        assert_eq!(k.satisfaction, Some(4.5));
        let v2v = k
            .latency
            .iter()
            .find(|s| s.stage == "voice_to_voice")
            .unwrap();
        assert_eq!(
            (v2v.p50_ms, v2v.p95_ms, v2v.turns),
            (Some(1000.0), Some(1400.0), 3)
        );
        let text = k.prometheus(1);
        assert!(text.contains("hotline_live_calls 1\n"));
        assert!(text.contains("hotline_calls_ended{outcome=\"transferred\"} 1\n"));
        assert!(
            text.contains("hotline_latency_ms{stage=\"voice_to_voice\",quantile=\"0.95\"} 1400\n")
        );
        assert!(text.contains("hotline_transfers{reason=\"the caller asked for a person\"} 1\n"));
    }

    #[test]
    fn no_calls_no_ratios() {
        let k = Kpis::compute(&[], &[], &[], &[], 0, 24);
        assert_eq!(
            (k.containment, k.average_handle_s, k.satisfaction),
            (None, None, None)
        );
        assert!(k.latency.iter().all(|s| s.p50_ms.is_none()));
        assert!(!k.prometheus(0).contains("containment"));
    }
}
