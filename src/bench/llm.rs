//! LLM benchmark: time to first token and tokens per second, with and without the prefix
//! cache, ours (hotline's runner on ort) beside a plain Python onnxruntime greedy loop on the
//! same ONNX file and the same prompt tokens.

use std::path::Path;

use serde::Deserialize;

use super::BenchError;
use super::baseline;
use super::median;
use crate::cancel::CancelToken;
use crate::llm::chat_template::Role;
use crate::llm::{GenerateOptions, Generator};
use crate::onnx_runtime::OrtRuntime;

/// A system prompt of the size the dialog core uses (instructions plus tool descriptions).
pub const SYSTEM_PROMPT: &str = "You are the voice assistant of an online shop's customer-service hotline. \
Callers ask about their orders, shipping and tracking, returns, refunds, exchanges, cancellations, \
address changes and complaints. Be brief: your words are spoken on the phone, so answer in one or two \
short sentences, without lists or formatting. Never guess facts about an order: they come only from the \
tools. Before disclosing anything about an order, the caller's identity must be verified, by the phone \
number they call from or by the order number together with the ZIP code or e-mail address. A caller may \
only hear about their own orders. Cancellations, returns, exchanges and address changes need the caller's \
explicit yes after you read back what will happen. If the caller asks for a person, or you fail twice at the \
same task, transfer the call to a human agent with a short summary. Stay polite, even when the caller is upset.";

pub const FIRST_TURN: &str =
    "Hi, I ordered wireless headphones last week and I want to know when they arrive.";
pub const SECOND_TURN: &str = "Can you tell me what I should do if the parcel is damaged?";

#[derive(Debug, Clone)]
pub struct LlmRow {
    pub model: String,
    pub prompt_tokens: usize,
    pub tokens: usize,
    pub ours_ttft_cold_s: f64,
    pub ours_ttft_cached_s: f64,
    pub cached_tokens: usize,
    pub ours_tokens_per_s: f64,
    pub theirs_ttft_s: f64,
    pub theirs_tokens_per_s: f64,
}

#[derive(Deserialize)]
struct TheirReport {
    version: String,
    ttft_s: f64,
    tokens_per_s: f64,
}

pub struct LlmBench {
    pub rows: Vec<LlmRow>,
    pub their_version: String,
}

/// Runs each model file in `models` (file names in `dir`, `NAME.VARIANT.onnx`, with
/// `NAME.tokenizer.json` and `NAME.hotline-llm.json` beside them).
pub fn run(
    root: &Path,
    ort: &OrtRuntime,
    dir: &Path,
    models: &[&str],
    threads: usize,
    runs: usize,
) -> Result<LlmBench, BenchError> {
    let input = |e: crate::llm::LlmError| BenchError::Input(e.to_string());
    let mut rows = Vec::new();
    let mut their_version = String::new();
    for model in models {
        let name = model.rsplitn(3, '.').nth(2).ok_or_else(|| {
            BenchError::Input(format!("{model}: want NAME.VARIANT.onnx, e.g. x.q8.onnx"))
        })?;
        let mut generator = Generator::load(
            ort,
            &dir.join(model),
            &dir.join(format!("{name}.tokenizer.json")),
            &dir.join(format!("{name}.hotline-llm.json")),
            threads,
        )
        .map_err(input)?;
        let template = generator.config().chat_template;
        let first = template.render(&[(Role::System, SYSTEM_PROMPT), (Role::User, FIRST_TURN)]);
        let second = template.render(&[(Role::System, SYSTEM_PROMPT), (Role::User, SECOND_TURN)]);
        let options = GenerateOptions {
            max_new_tokens: 32,
            ..GenerateOptions::default()
        };
        let cancel = CancelToken::new();
        let (mut cold, mut cached, mut rates) = (Vec::new(), Vec::new(), Vec::new());
        let (mut tokens, mut prompt_tokens, mut cached_tokens) = (0, 0, 0);
        // Cold, back to back as the Python loop runs: a fresh sequence computes the whole prompt.
        for run in 0..=runs {
            let mut seq = generator.new_sequence().map_err(input)?;
            let g = generator
                .generate(&mut seq, &second, &options, &cancel, |_| {})
                .map_err(input)?;
            if run > 0 {
                cold.push(g.time_to_first_token.as_secs_f64());
                let decode = (g.elapsed - g.time_to_first_token).as_secs_f64();
                rates.push(g.tokens.saturating_sub(1) as f64 / decode);
            }
            tokens = g.tokens;
            prompt_tokens = g.prompt_tokens;
        }
        // Cached: the sequence holds an earlier turn with the same system prompt.
        for run in 0..=runs {
            let mut warm = generator.new_sequence().map_err(input)?;
            generator
                .generate(&mut warm, &first, &options, &cancel, |_| {})
                .map_err(input)?;
            let c = generator
                .generate(&mut warm, &second, &options, &cancel, |_| {})
                .map_err(input)?;
            if run > 0 {
                cached.push(c.time_to_first_token.as_secs_f64());
            }
            cached_tokens = c.reused_tokens;
        }
        let ids = generator.encode(&second).map_err(input)?;
        let ids: Vec<String> = ids.iter().map(u32::to_string).collect();
        let args = vec![
            "--model".to_string(),
            dir.join(model).display().to_string(),
            "--ids".into(),
            ids.join(","),
            "--new".into(),
            tokens.max(2).to_string(),
            "--threads".into(),
            threads.to_string(),
        ];
        let theirs: TheirReport = baseline::run(root, "llm_onnxruntime.py", &args)?;
        their_version = theirs.version;
        rows.push(LlmRow {
            model: (*model).to_string(),
            prompt_tokens,
            tokens,
            ours_ttft_cold_s: median(cold),
            ours_ttft_cached_s: median(cached),
            cached_tokens,
            ours_tokens_per_s: median(rates),
            theirs_ttft_s: theirs.ttft_s,
            theirs_tokens_per_s: theirs.tokens_per_s,
        });
    }
    Ok(LlmBench {
        rows,
        their_version,
    })
}

pub fn render(bench: &LlmBench, threads: usize) -> String {
    let mut out = format!(
        "LLM: the dialog models as ONNX, greedy, {threads} threads. ours = hotline runner (ort), theirs = Python onnxruntime {} loop\n",
        bench.their_version
    );
    out.push_str(&format!(
        "{:<38} {:>7} {:>10} {:>12} {:>11} {:>11} {:>9} {:>10} {:>9}\n",
        "model",
        "prompt",
        "TTFT ours",
        "TTFT cached",
        "TTFT theirs",
        "tok/s ours",
        "theirs",
        "ratio",
        "cached"
    ));
    for r in &bench.rows {
        out.push_str(&format!(
            "{:<38} {:>7} {:>9.3}s {:>11.3}s {:>10.3}s {:>11.1} {:>9.1} {:>9.2}x {:>9}\n",
            r.model,
            r.prompt_tokens,
            r.ours_ttft_cold_s,
            r.ours_ttft_cached_s,
            r.theirs_ttft_s,
            r.ours_tokens_per_s,
            r.theirs_tokens_per_s,
            r.ours_tokens_per_s / r.theirs_tokens_per_s,
            r.cached_tokens,
        ));
    }
    out.push_str("TTFT cached: the sequence already holds the system prompt from an earlier turn; `cached` = prompt tokens reused.\n");
    out
}
