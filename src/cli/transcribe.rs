//! `hotline transcribe FILE.wav`: the transcript of a recording, as its last line of output.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use hotline::asr::{AsrOptions, AsrStream, Language, WhisperEngine};
use hotline::audio::{resample, wav};
use hotline::config::{Config, WhisperModel};
use hotline::onnx_runtime;
use hotline::vad::{SileroVad, StretchRule, speech_stretches};

/// Speech probability above which a VAD chunk counts as speech.
const SPEECH: f32 = 0.5;
/// Silero chunks at 16 kHz last 32 ms: pauses under ~0.8 s stay inside one stretch, and each
/// stretch keeps ~0.2 s of context on either side.
const MAX_PAUSE_CHUNKS: usize = 25;
const PAD_CHUNKS: usize = 6;

pub fn run(config: &Config, file: &Path, model: WhisperModel, language: &str) -> Result<()> {
    let language = Language::parse(language)?;
    let clip = wav::read(file)?;
    if clip.samples.is_empty() {
        bail!("{} holds no audio", file.display());
    }
    if !(4_000..=192_000).contains(&clip.sample_rate) {
        bail!(
            "{}: a sample rate of {} Hz is not audio hotline can use (4-192 kHz)",
            file.display(),
            clip.sample_rate
        );
    }
    let audio = resample::to_rate(&clip, hotline::asr::SAMPLE_RATE)?;

    // Whisper hears the speech only, stretch by stretch: no speech, no text (it invents words
    // out of noise), and a long silence inside its window can make it stop early.
    let ort = onnx_runtime::init(&config.models.onnxruntime)?;
    let mut vad = SileroVad::load(&ort, &config.models.dir.join("silero_vad.onnx"), 16_000)?;
    let probs = vad.probabilities(&audio.samples)?;
    let engine = Arc::new(
        WhisperEngine::load(
            &config.models.dir.join(model.file_name()),
            config.asr.threads,
        )
        .context("loading Whisper")?,
    );
    let options = AsrOptions {
        language,
        partial_every: std::time::Duration::ZERO,
        threads: config.asr.threads,
        ..AsrOptions::default()
    };
    let rule = StretchRule {
        threshold: SPEECH,
        max_pause_chunks: MAX_PAUSE_CHUNKS,
        pad_chunks: PAD_CHUNKS,
        // Whisper's window, less the padding.
        max_chunks: (options.max_utterance.as_secs_f64() * f64::from(hotline::asr::SAMPLE_RATE))
            as usize
            / vad.chunk_len()
            - 2 * PAD_CHUNKS,
    };
    let stretches = speech_stretches(&probs, vad.chunk_len(), audio.samples.len(), rule);
    if stretches.is_empty() {
        eprintln!("no speech found in {}", file.display());
        println!();
        return Ok(());
    }
    let mut stream = AsrStream::new(engine, options)?;
    let mut text = Vec::new();
    for stretch in stretches {
        stream.push(&audio.samples[stretch])?;
        let transcript = stream.finish()?;
        if !transcript.text.is_empty() {
            text.push(transcript.text);
        }
    }
    println!("{}", text.join(" "));
    Ok(())
}
