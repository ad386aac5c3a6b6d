//! `hotline eval PATH...`: run the scenario files against the dialog core; one line per
//! scenario, then one JSON line with the suite's figures.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use hotline::config::Config;
use hotline::dialog::extract::Extractor;
use hotline::dialog::planner::Planner;
use hotline::eval::{Scenario, judge, load_scenarios, run_scenario, summarize};
use hotline::onnx_runtime;

pub struct EvalArgs {
    pub paths: Vec<PathBuf>,
    pub verbose: bool,
    pub min_pass_rate: Option<f64>,
    /// Let the model choose alone, without the phrase lexicon.
    pub model_only: bool,
}

/// The scenarios of `paths`, or every problem printed and an error (nothing runs then).
pub fn load(paths: &[PathBuf]) -> Result<Vec<Scenario>> {
    match load_scenarios(paths) {
        Ok(s) => Ok(s),
        Err(errors) => {
            for e in &errors {
                eprintln!("error: {e}");
            }
            bail!(
                "{} scenario file(s) cannot be used; nothing was run",
                errors.len()
            )
        }
    }
}

pub fn run(config: &Config, args: EvalArgs) -> Result<()> {
    let scenarios = load(&args.paths)?;
    let ort = onnx_runtime::init(&config.models.onnxruntime)?;
    let planner = Planner::load(&ort, &config.llm).context("loading the dialog model")?;
    let extract = Arc::new(Extractor::new());
    let dir = tempfile::tempdir().context("creating a folder for the scenario databases")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let mut results = Vec::with_capacity(scenarios.len());
    for scenario in &scenarios {
        let run = runtime.block_on(run_scenario(
            scenario,
            &planner,
            &extract,
            dir.path(),
            !args.model_only,
        ));
        let verdict = judge(scenario, &run);
        let tools: Vec<String> = run
            .tools
            .iter()
            .map(|t| format!("{}:{}", t.name, t.outcome.as_str()))
            .collect();
        let mean_ms = if run.turn_ms.is_empty() {
            0.0
        } else {
            run.turn_ms.iter().sum::<f64>() / run.turn_ms.len() as f64
        };
        println!(
            "{} {}  ({} turns, {:.0} ms/turn; tools: {})",
            if verdict.passed() { "PASS" } else { "FAIL" },
            scenario.name,
            run.turns_taken,
            mean_ms,
            if tools.is_empty() {
                "none".to_string()
            } else {
                tools.join(" ")
            }
        );
        for why in verdict.failures.iter().chain(&verdict.leaks) {
            println!("     - {why}");
        }
        if args.verbose || (!verdict.passed() && std::env::var_os("HOTLINE_EVAL_SHOW").is_some()) {
            for line in &run.transcript {
                println!("       {line}");
            }
        }
        results.push((run, verdict));
    }
    let mut summary = summarize(&results);
    summary.peak_rss_mb = hotline::eval::memory::peak_rss_mb();
    println!("{}", serde_json::to_string(&summary)?);
    if let Some(min) = args.min_pass_rate {
        if summary.task_success < min {
            bail!(
                "pass rate {:.3} is below the required {min:.3}",
                summary.task_success
            );
        }
        if summary.leaks > 0 {
            bail!("{} scenario(s) leaked data", summary.leaks);
        }
    }
    Ok(())
}
