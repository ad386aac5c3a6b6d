//! `hotline eval --voice PATH...` and `hotline call SCENARIO --out call.wav`: scenarios run as
//! phone calls through the call pipeline (see `hotline::eval::voice`).

use std::path::Path;

use anyhow::{Context, Result, bail};

use super::eval::{EvalArgs, load};
use hotline::call::engines::Engines;
use hotline::config::Config;
use hotline::dialog::language::Language;
use hotline::eval::judge;
use hotline::eval::scenario::Scenario;
use hotline::eval::voice::{
    CallerVoice, MandarinCaller, VoiceRun, render_stages, run_voice_scenario, summarize_voice,
};
use hotline::onnx_runtime;
use hotline::tts::{KokoroFiles, KokoroVoice};

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn engines(config: &Config) -> Result<Engines> {
    let ort = onnx_runtime::init(&config.models.onnxruntime)?;
    Engines::load(&ort, config).context("loading the engines")
}

/// The Kokoro voice Mandarin caller turns are spoken with (not the assistant's).
pub const MANDARIN_CALLER_VOICE: &str = "kokoro-zm_yunjian.bin";

/// The simulated caller: espeak-ng, and a Kokoro voice when a scenario has Mandarin turns.
fn caller_voice(config: &Config, scenarios: &[Scenario]) -> Result<CallerVoice> {
    let mut caller = CallerVoice::default();
    let mandarin = scenarios
        .iter()
        .flat_map(|s| &s.turns)
        .any(|t| Language::detect(&t.text()) == Some(Language::Zh));
    if mandarin {
        let ort = onnx_runtime::init(&config.models.onnxruntime)?;
        let files = KokoroFiles {
            voice: config.models.dir.join(MANDARIN_CALLER_VOICE),
            ..config.tts.kokoro_files()
        };
        let voice = KokoroVoice::load(&ort, &files, 2)
            .context("loading the Mandarin caller's voice (`hotline models fetch` gets it)")?;
        caller.mandarin = Some(MandarinCaller::new(voice));
    }
    Ok(caller)
}

pub fn run(config: &Config, args: EvalArgs) -> Result<()> {
    let scenarios = load(&args.paths)?;
    let engines = engines(config)?;
    let caller = caller_voice(config, &scenarios)?;
    let dir = tempfile::tempdir().context("creating a folder for the scenario databases")?;
    let runtime = runtime()?;
    let mut results: Vec<(VoiceRun, hotline::eval::Verdict)> = Vec::new();
    for scenario in &scenarios {
        let run = runtime.block_on(run_voice_scenario(
            scenario,
            &engines,
            dir.path(),
            &caller,
            !args.model_only,
            None,
        ));
        let verdict = judge(scenario, &run.run);
        let v2v: Vec<String> = run
            .latencies
            .iter()
            .map(|l| format!("{:.0}", l.v2v_ms))
            .collect();
        let paused: Vec<String> = run.pause_ms.iter().map(|ms| format!("{ms:.0}")).collect();
        println!(
            "{} {}  ({} turns; voice to voice ms: {}; barge-ins {}, backchannels {}, fillers {}; \
             paused after ms: {})",
            if verdict.passed() { "PASS" } else { "FAIL" },
            scenario.name,
            run.run.turns_taken,
            if v2v.is_empty() {
                "-".to_string()
            } else {
                v2v.join(" ")
            },
            run.barge_ins,
            run.backchannels,
            run.fillers,
            if paused.is_empty() {
                "-".to_string()
            } else {
                paused.join(" ")
            },
        );
        for why in verdict.failures.iter().chain(&verdict.leaks) {
            println!("     - {why}");
        }
        if args.verbose || !verdict.passed() {
            for line in &run.run.transcript {
                println!("       {line}");
            }
        }
        results.push((run, verdict));
    }
    let mut summary = summarize_voice(&results);
    summary.eval.peak_rss_mb = hotline::eval::memory::peak_rss_mb();
    print!("{}", render_stages(&summary));
    println!("{}", serde_json::to_string(&summary)?);
    if let Some(min) = args.min_pass_rate {
        if summary.eval.task_success < min {
            bail!(
                "pass rate {:.3} is below the required {min:.3}",
                summary.eval.task_success
            );
        }
        if summary.eval.leaks > 0 {
            bail!("{} scenario(s) leaked data", summary.eval.leaks);
        }
    }
    Ok(())
}

pub fn call(config: &Config, scenario: &Path, out: &Path) -> Result<()> {
    let scenarios = load(&[scenario.to_path_buf()])?;
    let Some(scenario) = scenarios.first() else {
        bail!("{} holds no scenario", scenario.display());
    };
    let engines = engines(config)?;
    let caller = caller_voice(config, std::slice::from_ref(scenario))?;
    let dir = tempfile::tempdir().context("creating a folder for the scenario database")?;
    let run = runtime()?.block_on(run_voice_scenario(
        scenario,
        &engines,
        dir.path(),
        &caller,
        true,
        Some(out.to_path_buf()),
    ));
    for line in &run.run.transcript {
        println!("{line}");
    }
    if let Some(e) = &run.run.error {
        println!("problems: {e}");
    }
    let verdict = judge(scenario, &run.run);
    println!(
        "{} {}; recording: {}",
        if verdict.passed() { "PASS" } else { "FAIL" },
        scenario.name,
        out.display()
    );
    for why in verdict.failures.iter().chain(&verdict.leaks) {
        println!("  - {why}");
    }
    Ok(())
}
