//! `hotline transcribe FILE.wav`: the transcript of a recording, as its last line of output.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use hotline::asr::{AsrOptions, AsrStream, Language, WhisperEngine};
use hotline::audio::{resample, wav};
use hotline::config::{Config, WhisperModel};
use hotline::onnx_runtime;
use hotline::vad::SileroVad;

/// Speech probability above which a VAD chunk counts as speech.
const SPEECH: f32 = 0.5;

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

    // VAD gate: no speech, no text (Whisper invents words out of noise).
    let ort = onnx_runtime::init(&config.models.onnxruntime)?;
    let mut vad = SileroVad::load(&ort, &config.models.dir.join("silero_vad.onnx"), 16_000)?;
    let speech = vad.speech_fraction(&audio.samples, SPEECH)?;
    if speech == 0.0 {
        eprintln!("no speech found in {}", file.display());
        println!();
        return Ok(());
    }

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
    let window = options.max_utterance;
    let mut stream = AsrStream::new(engine, options)?;
    // Long recordings go through in windows Whisper can hear at once.
    let window_samples = (window.as_secs_f64() * f64::from(hotline::asr::SAMPLE_RATE)) as usize;
    let mut text = Vec::new();
    for piece in audio.samples.chunks(window_samples.max(1)) {
        stream.push(piece)?;
        let transcript = stream.finish()?;
        if !transcript.text.is_empty() {
            text.push(transcript.text);
        }
    }
    println!("{}", text.join(" "));
    Ok(())
}
