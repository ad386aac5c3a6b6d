//! `cargo bench --bench asr_context [-- EVERY]`: how much silence Whisper's encoder needs after
//! an utterance (`AsrOptions::context_margin`, the `audio_ctx` lever). Every caller line of the
//! scenario suites (English by espeak-ng, Mandarin by Kokoro, as `hotline eval --voice` speaks
//! them), through 8 kHz G.711, transcribed by Whisper base and tiny.en with each margin, side by
//! side in one run: word (English) and character (Mandarin) error rate, decode time.
//! `EVERY` = k takes every k-th line (a quicker look). Needs `make setup`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use hotline::asr::stream::{DEFAULT_CONTEXT_MARGIN, Language};
use hotline::asr::{AsrOptions, AsrStream, WhisperEngine};
use hotline::audio::Clip;
use hotline::audio::g711::Law;
use hotline::bench::asr::phone_path;
use hotline::bench::wer::{cer, wer};
use hotline::eval::runner::quantile;
use hotline::eval::scenario::load_scenarios;
use hotline::eval::voice::{CallerVoice, MandarinCaller};
use hotline::tts::{KokoroFiles, KokoroVoice};

const SUITES: [&str; 5] = [
    "tests/scenarios",
    "tests/scenarios-heldout",
    "tests/scenarios-voice",
    "tests/scenarios-zh",
    "tests/scenarios-voice-zh",
];
const MARGINS_MS: [u64; 5] = [5120, 2560, 1280, 640, 320];

struct Line {
    text: String,
    zh: bool,
    audio: Vec<f32>,
}

fn main() -> Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let every: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(|a| a.parse().context("EVERY must be a whole number"))
        .transpose()?
        .unwrap_or(1)
        .max(1);
    let models = root.join("models");
    let ort = hotline::onnx_runtime::init(&models.join("libonnxruntime.so"))?;
    let config = hotline::config::Config::default();
    let mut caller = CallerVoice::default();
    let files = KokoroFiles {
        voice: models.join("kokoro-zm_yunjian.bin"),
        model: root.join(&config.tts.kokoro_model),
        vocab: root.join(&config.tts.kokoro_vocab),
    };
    caller.mandarin = Some(MandarinCaller::new(KokoroVoice::load(&ort, &files, 2)?));

    let paths: Vec<PathBuf> = SUITES.iter().map(|s| root.join(s)).collect();
    let scenarios = load_scenarios(&paths).map_err(|errors| {
        anyhow::anyhow!(
            "{}",
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        )
    })?;
    let texts: BTreeSet<String> = scenarios
        .iter()
        .flat_map(|s| s.turns.iter().map(|t| t.text()))
        .filter(|t| t.chars().any(char::is_alphabetic))
        .collect();
    let mut lines = Vec::new();
    for text in texts.into_iter().step_by(every) {
        let zh = text.chars().any(hotline::dialog::language::is_han);
        let narrow = caller.synthesize(&text, 8_000)?;
        let clip = phone_path(
            &Clip {
                samples: narrow,
                sample_rate: 8_000,
            },
            Law::MuLaw,
        )?;
        lines.push(Line {
            text,
            zh,
            audio: clip.samples,
        });
    }
    let english = lines.iter().filter(|l| !l.zh).count();
    let seconds: f64 = lines.iter().map(|l| l.audio.len() as f64 / 16_000.0).sum();
    println!(
        "{} caller lines ({english} English, {} Mandarin; {:.0} s of audio), 2 threads",
        lines.len(),
        lines.len() - english,
        seconds,
    );
    println!(
        "model    margin   WER en  CER zh  decode p50  decode p95  (default margin {} ms)",
        DEFAULT_CONTEXT_MARGIN.as_millis()
    );
    for (model, file, multilingual) in [
        ("base", "ggml-base.bin", true),
        ("tiny.en", "ggml-tiny.en.bin", false),
    ] {
        let engine = Arc::new(WhisperEngine::load(&models.join(file), 2)?);
        for margin in MARGINS_MS {
            let (mut errors_en, mut errors_zh, mut times) = (Vec::new(), Vec::new(), Vec::new());
            for line in lines.iter().filter(|l| multilingual || !l.zh) {
                let options = AsrOptions {
                    language: if line.zh { Language::Zh } else { Language::En },
                    partial_every: Duration::ZERO,
                    context_margin: Duration::from_millis(margin),
                    ..AsrOptions::default()
                };
                let mut stream = AsrStream::new(engine.clone(), options)?;
                stream.push(&line.audio)?;
                let heard = stream.finish()?;
                times.push(heard.decode_time.as_secs_f64() * 1000.0);
                if line.zh {
                    errors_zh.push(cer(&line.text, &heard.text));
                } else {
                    errors_en.push(wer(&line.text, &heard.text));
                }
                if std::env::var_os("HOTLINE_BENCH_VERBOSE").is_some() {
                    println!("  {model} {margin}: {} -> {}", line.text, heard.text);
                }
            }
            let mean = |v: &[f64]| {
                if v.is_empty() {
                    "-".to_string()
                } else {
                    format!("{:.3}", v.iter().sum::<f64>() / v.len() as f64)
                }
            };
            println!(
                "{model:<8} {margin:>5} ms  {:>6}  {:>6}  {:>7.0} ms  {:>7.0} ms",
                mean(&errors_en),
                mean(&errors_zh),
                quantile(&times, 0.5),
                quantile(&times, 0.95),
            );
        }
    }
    Ok(())
}
