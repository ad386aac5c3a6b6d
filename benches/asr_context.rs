//! `cargo bench --bench asr_context [-- EVERY]`: how much silence Whisper's encoder needs after
//! an utterance (`AsrOptions::context_margin`, the `audio_ctx` lever). Every caller line of the
//! scenario suites (English by espeak-ng, Mandarin by Kokoro, as `hotline eval --voice` speaks
//! them), through 8 kHz G.711, transcribed by Whisper base and tiny.en with each margin, side by
//! side in one run: word (English) and character (Mandarin) error rate, decode time; each in
//! f16 and in 8-bit weights (q8_0). Then the call's way of decoding, language auto in a call
//! that started in English: one multilingual model, or tiny.en first with base's language check
//! when tiny.en is unsure (`AsrStream::with_english_first`).
//! `EVERY` = k takes every k-th line (a quicker look); `HOTLINE_BENCH_MARGINS=5120,2560` the
//! margins to try (empty: none). Needs `make setup`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use hotline::asr::stream::{DEFAULT_CONTEXT_MARGIN, ENGLISH_SURE_LOGPROB, Language};
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
/// The models compared: name, file in `models/`, multilingual. Weights in f16 and in 8-bit
/// blocks (q8_0) side by side.
const MODELS: [(&str, &str, bool); 4] = [
    ("base", "ggml-base.bin", true),
    ("base q8_0", "ggml-base-q8_0.bin", true),
    ("tiny.en", "ggml-tiny.en.bin", false),
    ("tiny.en q8_0", "ggml-tiny.en-q8_0.bin", false),
];

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
        "model         margin   WER en  CER zh  decode p50  decode p95  (default margin {} ms)",
        DEFAULT_CONTEXT_MARGIN.as_millis()
    );
    for (model, file, multilingual) in MODELS {
        let path = models.join(file);
        if !path.exists() {
            println!("{model:<13} (no {file}: `make setup` makes it)");
            continue;
        }
        let engine = Arc::new(WhisperEngine::load(&path, 2)?);
        let margins: Vec<u64> = match std::env::var("HOTLINE_BENCH_MARGINS") {
            Ok(list) => list
                .split(',')
                .filter(|m| !m.trim().is_empty())
                .map(|m| {
                    m.trim()
                        .parse()
                        .context("HOTLINE_BENCH_MARGINS: milliseconds, comma-separated")
                })
                .collect::<Result<_>>()?,
            Err(_) => MARGINS_MS.to_vec(),
        };
        for &margin in &margins {
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
                    println!(
                        "  {model} {margin}: {} -> {} ({:.2})",
                        line.text, heard.text, heard.avg_logprob
                    );
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
                "{model:<13} {margin:>5} ms  {:>6}  {:>6}  {:>7.0} ms  {:>7.0} ms",
                mean(&errors_en),
                mean(&errors_zh),
                quantile(&times, 0.5),
                quantile(&times, 0.95),
            );
        }
    }
    english_first(&models, &lines)
}

/// A call that starts in English, decoded the default way: one multilingual model, or an
/// English-only model first and the multilingual one when that is unsure. Each line is a new
/// stream, so every Mandarin line is a caller switching language.
fn english_first(models: &Path, lines: &[Line]) -> Result<()> {
    println!("\nlanguage auto, a call in English, default margin (decode: the whole turn's, ms)");
    println!(
        "models                      WER en  CER zh  zh heard  en p50  en p95  zh p50  en taken for zh"
    );
    let load = |file: &str| -> Result<Option<Arc<WhisperEngine>>> {
        let path = models.join(file);
        if !path.exists() {
            return Ok(None);
        }
        let engine = WhisperEngine::load(&path, 2)?;
        // As the server does at start: the language check's set-up is not a turn's.
        engine.prepare_language_check(2)?;
        Ok(Some(Arc::new(engine)))
    };
    for (name, main, first, sure) in [
        ("base", "ggml-base.bin", None, ENGLISH_SURE_LOGPROB),
        (
            "base q8_0",
            "ggml-base-q8_0.bin",
            None,
            ENGLISH_SURE_LOGPROB,
        ),
        (
            "tiny.en q8_0, base q8_0",
            "ggml-base-q8_0.bin",
            Some("ggml-tiny.en-q8_0.bin"),
            ENGLISH_SURE_LOGPROB,
        ),
        (
            "  the same, always checked",
            "ggml-base-q8_0.bin",
            Some("ggml-tiny.en-q8_0.bin"),
            0.0,
        ),
    ] {
        let Some(main) = load(main)? else { continue };
        let first = match first {
            Some(file) => match load(file)? {
                Some(engine) => Some(engine),
                None => continue,
            },
            None => None,
        };
        let (mut errors_en, mut errors_zh, mut zh_heard) = (Vec::new(), Vec::new(), 0);
        let (mut times_en, mut times_zh, mut taken_for_zh) = (Vec::new(), Vec::new(), 0);
        for line in lines {
            let options = AsrOptions {
                language: Language::Auto,
                partial_every: Duration::ZERO,
                english_sure_logprob: sure,
                ..AsrOptions::default()
            };
            let mut stream = AsrStream::new(main.clone(), options)?;
            if let Some(first) = &first {
                stream = stream.with_english_first(first.clone())?;
            }
            stream.push(&line.audio)?;
            let heard = stream.finish()?;
            let ms = heard.decode_time.as_secs_f64() * 1000.0;
            if line.zh {
                errors_zh.push(cer(&line.text, &heard.text));
                times_zh.push(ms);
                zh_heard += usize::from(heard.language == Language::Zh);
            } else {
                errors_en.push(wer(&line.text, &heard.text));
                times_en.push(ms);
                taken_for_zh += usize::from(first.is_some() && !heard.english_first);
            }
            if std::env::var_os("HOTLINE_BENCH_VERBOSE").is_some() {
                println!(
                    "  {name}: {} -> {} ({:?}, {:.2}, first kept: {})",
                    line.text, heard.text, heard.language, heard.avg_logprob, heard.english_first
                );
            }
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        println!(
            "{name:<26} {:>7.3} {:>7.3} {:>5}/{:<3} {:>6.0} {:>7.0} {:>7.0}  {taken_for_zh}/{}",
            mean(&errors_en),
            mean(&errors_zh),
            zh_heard,
            times_zh.len(),
            quantile(&times_en, 0.5),
            quantile(&times_en, 0.95),
            quantile(&times_zh, 0.5),
            times_en.len(),
        );
    }
    Ok(())
}
