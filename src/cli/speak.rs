//! `hotline speak "TEXT" -o OUT.wav [--rate 8000]`: what the assistant would say, as a file.
//! Mandarin text (any hanzi) is spoken by the Mandarin Kokoro voice, anything else by the
//! English voice (`tts.voice`: Piper, or an English Kokoro voice).

use std::path::Path;

use anyhow::{Result, bail};

use hotline::audio::{Clip, wav};
use hotline::config::Config;
use hotline::dialog::language::Language;
use hotline::onnx_runtime;
use hotline::tts::speaker::{CancelToken, Speaker};
use hotline::tts::{KokoroVoice, Voice, english_voice};

/// Rates a call can run at.
pub const RATES: [u32; 5] = [8_000, 16_000, 22_050, 24_000, 48_000];

pub fn run(config: &Config, text: &str, out: &Path, rate: Option<u32>) -> Result<()> {
    let ort = onnx_runtime::init(&config.models.onnxruntime)?;
    let voice: Box<dyn Voice> = if Language::detect(text) == Some(Language::Zh) {
        Box::new(KokoroVoice::load(&ort, &config.tts.kokoro_files(), 2)?)
    } else {
        english_voice(&ort, &config.tts)?
    };
    let rate = rate.unwrap_or(voice.sample_rate());
    if !RATES.contains(&rate) {
        bail!("--rate {rate}: choose one of {RATES:?}");
    }
    let mut speaker = Speaker::new(voice, rate, 20)?;
    let mut samples = Vec::new();
    speaker.speak(text, &CancelToken::new(), |frame| {
        samples.extend_from_slice(frame)
    })?;
    if samples.is_empty() {
        eprintln!("nothing to say in {text:?}; writing an empty file");
    }
    wav::write(
        out,
        &Clip {
            samples,
            sample_rate: rate,
        },
    )?;
    println!("{}", out.display());
    Ok(())
}
