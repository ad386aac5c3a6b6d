//! The engines every call shares, loaded once: Whisper (each call gets its own state), the
//! planner thread (the LLM), the voice threads (English: Piper or Kokoro; Mandarin: Kokoro; each
//! with its phrase cache), the phrase
//! extractor, and the Silero model path (each call loads its own small VAD session, which
//! keeps per-stream state).

use std::path::PathBuf;
use std::sync::Arc;

use super::dialog::filler;
use super::voice::VoiceService;
use crate::asr::stream::{AsrOptions, Language as AsrLanguage};
use crate::asr::whisper::AsrError;
use crate::asr::whisper::WhisperEngine;
use crate::config::{CallConfig, Config, EnglishFirst};
use crate::dialog::extract::Extractor;
use crate::dialog::language::Language;
use crate::dialog::planner::{Planner, PlannerError};
use crate::onnx_runtime::OrtRuntime;
use crate::store::redact::Redactor;
use crate::tts::speaker::{STOCK_PHRASES_EN, Speaker};
use crate::tts::{KokoroVoice, TtsError, Voice, english_voice};

#[derive(Debug, thiserror::Error)]
pub enum EnginesError {
    #[error("speech recognition: {0}")]
    Asr(#[from] AsrError),
    #[error("dialog model: {0}")]
    Planner(#[from] PlannerError),
    #[error("voice: {0}")]
    Tts(#[from] TtsError),
    #[error("cannot start an engine thread: {0}")]
    Thread(#[from] std::io::Error),
}

#[derive(Clone)]
pub struct Engines {
    pub ort: OrtRuntime,
    pub whisper: Arc<WhisperEngine>,
    /// The English-only model tried first in English (`[asr] english_first`).
    pub whisper_english: Option<Arc<WhisperEngine>>,
    pub asr: AsrOptions,
    pub vad_model: PathBuf,
    pub planner: Planner,
    pub voice: VoiceService,
    pub extract: Arc<Extractor>,
    pub redact: Option<Arc<Redactor>>,
    pub tuning: CallConfig,
}

impl Engines {
    /// Loads every engine the configuration names (seconds: the models are read and warmed).
    pub fn load(ort: &OrtRuntime, config: &Config) -> Result<Engines, EnginesError> {
        let whisper = Arc::new(WhisperEngine::load(
            &config.models.dir.join(config.asr.model.file_name()),
            config.asr.threads,
        )?);
        let whisper_english = match config.asr.english_first {
            EnglishFirst::Model(model) if config.asr.language != "zh" => {
                // The language check's one-off set-up, now rather than in a caller's turn.
                whisper.prepare_language_check(config.asr.threads)?;
                Some(Arc::new(WhisperEngine::load(
                    &config.models.dir.join(model.file_name()),
                    config.asr.threads,
                )?))
            }
            _ => None,
        };
        let asr = AsrOptions {
            language: AsrLanguage::parse(&config.asr.language)?,
            threads: config.asr.threads,
            // The listener asks for partials itself (only while the caller talks).
            partial_every: std::time::Duration::ZERO,
            ..AsrOptions::default()
        };
        let planner = Planner::load(ort, &config.llm)?;
        let voice = english_voice(ort, &config.tts)?;
        let rate = voice.sample_rate();
        let mut english = Speaker::new(voice, rate, 20)?;
        let mut stock: Vec<&str> = STOCK_PHRASES_EN.to_vec();
        stock.push(filler(Language::En));
        english.warm_cache(&stock)?;
        let voice = VoiceService::start(english, Some(mandarin_speaker(ort, config)?))?;
        Ok(Engines {
            ort: ort.clone(),
            whisper,
            whisper_english,
            asr,
            vad_model: config.models.dir.join("silero_vad.onnx"),
            planner,
            voice,
            extract: Arc::new(Extractor::new()),
            redact: config.privacy.redactor().map(Arc::new),
            tuning: config.call.clone(),
        })
    }
}

/// The Mandarin voice (Kokoro) with its filler ready. It is required: any call may turn to
/// Mandarin (the caller's language is followed), and a reply nobody can speak is silence.
fn mandarin_speaker(ort: &OrtRuntime, config: &Config) -> Result<Speaker, EnginesError> {
    let voice = KokoroVoice::load(ort, &config.tts.kokoro_files(), 2)?;
    if !voice.is_mandarin() {
        return Err(TtsError::Load {
            path: config.tts.mandarin_voice.clone(),
            detail: "tts.mandarin_voice must be a Mandarin Kokoro voice (zf_* or zm_*)".into(),
        }
        .into());
    }
    let rate = voice.sample_rate();
    let mut speaker = Speaker::new(voice, rate, 20)?;
    speaker.warm_cache(&[filler(Language::Zh)])?;
    Ok(speaker)
}
