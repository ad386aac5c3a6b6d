//! `hotline models check`: for every artifact its path, size, sha256 and a real smoke
//! inference with its wall time.
//!
//! ONNX Runtime is checked first (file, version) because ort deadlocks on a bad library; if it
//! is unusable, every ort-based check is reported as skipped rather than attempted.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::fetch::sha256_file;
use super::manifest::{Artifact, ArtifactKind, Manifest};
use crate::asr::WhisperEngine;
use crate::audio::{Clip, resample, wav};
use crate::cancel::CancelToken;
use crate::config::Config;
use crate::llm::chat_template::Role;
use crate::llm::generate::load_tokenizer;
use crate::llm::{GenerateOptions, Generator, LlmModelConfig};
use crate::onnx_runtime::{self, OrtRuntime};
use crate::tts::{KokoroFiles, KokoroVoice, PiperVoice, Voice};
use crate::vad::SileroVad;

/// What the Piper smoke test says; the VAD must find speech in it.
pub const SMOKE_SENTENCE: &str =
    "Your order one zero zero zero four two has shipped and should arrive on Friday.";
/// What a Kokoro (Mandarin) voice says in the check.
pub const SMOKE_SENTENCE_ZH: &str = "您的订单已经发货了。";

/// One line of the table.
#[derive(Debug)]
pub struct CheckRow {
    pub name: String,
    pub path: PathBuf,
    pub size: Option<u64>,
    pub sha256: Option<String>,
    pub sha256_ok: bool,
    /// What the smoke inference produced, or why it failed.
    pub smoke: Result<String, String>,
    pub wall: Duration,
}

impl CheckRow {
    pub fn ok(&self) -> bool {
        self.sha256_ok && self.smoke.is_ok()
    }
}

/// Runs every check. `models_dir` holds the artifacts under their manifest file names.
pub fn run(manifest: &Manifest, models_dir: &Path, config: &Config) -> Vec<CheckRow> {
    let path_of = |a: &Artifact| models_dir.join(&a.file);
    // An optional artifact that was never fetched is not a failure: it gets no row.
    let checked: Vec<&Artifact> = manifest
        .artifacts
        .iter()
        .filter(|a| !a.optional || path_of(a).exists())
        .collect();
    let mut rows: Vec<CheckRow> = checked
        .iter()
        .map(|a| {
            let path = path_of(a);
            let size = std::fs::metadata(&path).ok().map(|m| m.len());
            let sha256 = size.and_then(|_| sha256_file(&path, &format!("hash {}", a.file)).ok());
            let sha256_ok = sha256.as_deref() == Some(a.sha256.as_str()) && size == Some(a.size);
            let data_ok = match (&a.data, a.data_file()) {
                (Some(data), Some(name)) => {
                    let data_path = models_dir.join(&name);
                    let data_size = std::fs::metadata(&data_path).ok().map(|m| m.len());
                    data_size == Some(data.size)
                        && sha256_file(&data_path, &format!("hash {name}"))
                            .ok()
                            .as_deref()
                            == Some(data.sha256.as_str())
                }
                _ => true,
            };
            let smoke = if size.is_none() {
                Err("missing: run `hotline models fetch`".into())
            } else if !sha256_ok {
                Err(format!("checksum mismatch (manifest {}…)", &a.sha256[..12]))
            } else if !data_ok {
                Err(format!(
                    "its data file {}.data is missing or wrong: run `hotline models fetch`",
                    a.file
                ))
            } else {
                Ok(String::new())
            };
            CheckRow {
                name: a.name.clone(),
                path,
                size,
                sha256,
                sha256_ok: sha256_ok && data_ok,
                smoke,
                wall: Duration::ZERO,
            }
        })
        .collect();

    let audio = manifest
        .of_kind(ArtifactKind::Audio)
        .next()
        .map(|a| wav::read(&path_of(a)));
    let mut runtime: Option<OrtRuntime> = None;
    let mut piper_clip: Option<Clip> = None;
    // Order matters: ONNX Runtime first, Piper before the VAD that listens to it.
    let order = [
        ArtifactKind::Onnxruntime,
        ArtifactKind::Audio,
        ArtifactKind::Whisper,
        ArtifactKind::PiperConfig,
        ArtifactKind::Piper,
        ArtifactKind::Vad,
        ArtifactKind::KokoroVocab,
        ArtifactKind::KokoroVoice,
        ArtifactKind::Kokoro,
        ArtifactKind::Gguf,
        ArtifactKind::Tokenizer,
        ArtifactKind::LlmConfig,
        ArtifactKind::Llm,
    ];
    for kind in order {
        for (index, artifact) in checked.iter().enumerate() {
            if artifact.kind != kind || rows[index].smoke.is_err() {
                continue;
            }
            let path = path_of(artifact);
            let started = Instant::now();
            let smoke = match kind {
                ArtifactKind::Onnxruntime => onnx_runtime::init(&path)
                    .map(|rt| {
                        let v = format!("ONNX Runtime {} loads", rt.version);
                        runtime = Some(rt);
                        v
                    })
                    .map_err(|e| e.to_string()),
                ArtifactKind::Audio => wav::read(&path)
                    .map(|c| format!("{:.1} s at {} Hz", c.seconds(), c.sample_rate))
                    .map_err(|e| e.to_string()),
                ArtifactKind::Whisper => match &audio {
                    Some(Ok(clip)) => smoke_whisper(&path, clip, config),
                    _ => Err("no test audio to transcribe".into()),
                },
                ArtifactKind::PiperConfig => std::fs::read_to_string(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|t| {
                        serde_json::from_str::<serde_json::Value>(&t).map_err(|e| e.to_string())
                    })
                    .map(|v| format!("voice config, {} Hz", v["audio"]["sample_rate"])),
                ArtifactKind::Piper => with_ort(&runtime, |rt| {
                    let mut voice = PiperVoice::load(rt, &path).map_err(|e| e.to_string())?;
                    let clip = voice.speak(SMOKE_SENTENCE).map_err(|e| e.to_string())?;
                    let said = format!("spoke {:.1} s at {} Hz", clip.seconds(), clip.sample_rate);
                    piper_clip = Some(clip);
                    Ok(said)
                }),
                ArtifactKind::Vad => with_ort(&runtime, |rt| match &piper_clip {
                    Some(clip) => smoke_vad(rt, &path, clip),
                    None => Err("no Piper speech to listen to".into()),
                }),
                ArtifactKind::KokoroVocab | ArtifactKind::KokoroVoice => std::fs::metadata(&path)
                    .map(|m| format!("{} bytes, read when its model loads", m.len()))
                    .map_err(|e| e.to_string()),
                ArtifactKind::Kokoro => with_ort(&runtime, |rt| {
                    smoke_kokoro(rt, manifest, artifact, models_dir)
                }),
                ArtifactKind::Gguf => gguf_header(&path),
                ArtifactKind::Tokenizer => load_tokenizer(&path)
                    .map_err(|e| e.to_string())
                    .map(|t| format!("{} tokens in its vocabulary", t.get_vocab_size(true))),
                ArtifactKind::LlmConfig => LlmModelConfig::load(&path)
                    .map(|c| {
                        format!(
                            "{}, {} layers, {:?} template",
                            c.architecture, c.n_layers, c.chat_template
                        )
                    })
                    .map_err(|e| e.to_string()),
                ArtifactKind::Llm => with_ort(&runtime, |rt| {
                    smoke_llm(rt, manifest, artifact, models_dir, config)
                }),
            };
            rows[index].smoke = smoke;
            rows[index].wall = started.elapsed();
        }
    }
    rows
}

/// The GGUF header: magic, version, tensor and metadata counts (the converters read the rest).
fn gguf_header(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let mut header = [0u8; 24];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .map_err(|e| e.to_string())?;
    if &header[..4] != b"GGUF" {
        return Err("not a GGUF file (no GGUF magic)".into());
    }
    let word = |at: usize, n: usize| {
        header[at..at + n]
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
    };
    Ok(format!(
        "GGUF v{}, {} tensors, {} metadata keys",
        word(4, 4),
        word(8, 8),
        word(16, 8)
    ))
}

fn with_ort(
    runtime: &Option<OrtRuntime>,
    f: impl FnOnce(&OrtRuntime) -> Result<String, String>,
) -> Result<String, String> {
    match runtime {
        Some(rt) => f(rt),
        None => Err("skipped: ONNX Runtime is not usable (see its row)".into()),
    }
}

fn smoke_whisper(path: &Path, clip: &Clip, config: &Config) -> Result<String, String> {
    let engine = WhisperEngine::load(path, config.asr.threads).map_err(|e| e.to_string())?;
    let audio = resample::to_rate(clip, crate::asr::SAMPLE_RATE).map_err(|e| e.to_string())?;
    let text = engine
        .transcribe(&audio.samples, "en")
        .map_err(|e| e.to_string())?;
    if text.is_empty() {
        return Err("transcribed nothing".into());
    }
    Ok(format!("heard \"{text}\""))
}

fn smoke_vad(rt: &OrtRuntime, path: &Path, speech: &Clip) -> Result<String, String> {
    let mut vad = SileroVad::load(rt, path, 16_000).map_err(|e| e.to_string())?;
    let speech = resample::to_rate(speech, 16_000).map_err(|e| e.to_string())?;
    let in_speech = vad
        .speech_fraction(&speech.samples, 0.5)
        .map_err(|e| e.to_string())?;
    let in_silence = vad
        .speech_fraction(&vec![0.0; 16_000], 0.5)
        .map_err(|e| e.to_string())?;
    if in_speech < 0.3 || in_silence > 0.0 {
        return Err(format!(
            "speech found in {:.0}% of the Piper sentence and {:.0}% of silence",
            in_speech * 100.0,
            in_silence * 100.0
        ));
    }
    Ok(format!(
        "speech in {:.0}% of the Piper sentence, {:.0}% of silence",
        in_speech * 100.0,
        in_silence * 100.0
    ))
}

fn smoke_kokoro(
    rt: &OrtRuntime,
    manifest: &Manifest,
    artifact: &Artifact,
    models_dir: &Path,
) -> Result<String, String> {
    let companion = |kind| {
        artifact
            .companion(manifest, kind)
            .map(|a| models_dir.join(&a.file))
            .ok_or(format!("the manifest names no {kind:?} for it"))
    };
    let files = KokoroFiles {
        model: models_dir.join(&artifact.file),
        vocab: companion(ArtifactKind::KokoroVocab)?,
        voice: companion(ArtifactKind::KokoroVoice)?,
    };
    let mut voice = KokoroVoice::load(rt, &files, 2).map_err(|e| e.to_string())?;
    let clip = Voice::speak(&mut voice, SMOKE_SENTENCE_ZH).map_err(|e| e.to_string())?;
    if clip.samples.is_empty() {
        return Err("spoke nothing".into());
    }
    Ok(format!(
        "spoke {:.1} s of Mandarin at {} Hz",
        clip.seconds(),
        clip.sample_rate
    ))
}

fn smoke_llm(
    rt: &OrtRuntime,
    manifest: &Manifest,
    artifact: &Artifact,
    models_dir: &Path,
    config: &Config,
) -> Result<String, String> {
    let tokenizer = artifact
        .companion(manifest, ArtifactKind::Tokenizer)
        .ok_or("the manifest names no tokenizer for it")?;
    let description = artifact
        .companion(manifest, ArtifactKind::LlmConfig)
        .ok_or("the manifest names no llm-config for it")?;
    let mut generator = Generator::load(
        rt,
        &models_dir.join(&artifact.file),
        &models_dir.join(&tokenizer.file),
        &models_dir.join(&description.file),
        config.llm.threads,
    )
    .map_err(|e| e.to_string())?;
    // No system turn: with SmolLM's default one the quantized models drift into French.
    let prompt = generator
        .config()
        .chat_template
        .render(&[(Role::User, "What is the capital of France?")]);
    let mut sequence = generator.new_sequence().map_err(|e| e.to_string())?;
    let options = GenerateOptions {
        max_new_tokens: 16,
        ..GenerateOptions::default()
    };
    let generation = generator
        .generate(
            &mut sequence,
            &prompt,
            &options,
            &CancelToken::new(),
            |_| {},
        )
        .map_err(|e| e.to_string())?;
    let text = generation.text;
    if text.trim().is_empty() {
        return Err("generated nothing".into());
    }
    Ok(format!(
        "\"What is the capital of France?\" -> \"{}\"",
        text.trim()
    ))
}

/// Formats the table printed by `hotline models check`.
pub fn render(rows: &[CheckRow]) -> String {
    let mut out = format!(
        "{:<22} {:<44} {:>11} {:<16} {:>8}  {}\n",
        "artifact", "path", "size (B)", "sha256", "time", "smoke test"
    );
    for row in rows {
        let sha = match (&row.sha256, row.sha256_ok) {
            (Some(h), true) => format!("{}… ok", &h[..12]),
            (Some(h), false) => format!("{}… BAD", &h[..12]),
            (None, _) => "-".into(),
        };
        let smoke = match &row.smoke {
            Ok(s) => format!("ok: {s}"),
            Err(e) => format!("FAILED: {e}"),
        };
        out.push_str(&format!(
            "{:<22} {:<44} {:>11} {:<16} {:>7.2}s  {}\n",
            row.name,
            row.path.display(),
            row.size
                .map(|s| s.to_string())
                .unwrap_or_else(|| "-".into()),
            sha,
            row.wall.as_secs_f64(),
            smoke
        ));
    }
    out
}
