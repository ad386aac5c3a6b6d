//! Speech synthesis behind one [`Voice`] trait: Piper voices (through piper-rs, which
//! phonemizes with espeak-ng) for English, Kokoro voices with their Mandarin front end
//! (`mandarin`) for Mandarin, or for English (`misaki`). The [`speaker::Speaker`] streams any
//! of them into a call; [`english_voice`] is the one the configuration names for English.

pub mod clause_cache;
pub mod clauses;
pub mod espeak;
pub mod kokoro;
pub mod mandarin;
pub mod misaki;
pub mod normalize;
pub mod piper;
pub mod speaker;
pub mod voice;

pub use kokoro::{KokoroFiles, KokoroVoice};
pub use piper::PiperVoice;
pub use voice::{TtsError, Voice};

/// The English voice `tts.voice` names: a Piper voice (`.onnx`, its `.onnx.json` beside it) or
/// an American English Kokoro voice (`.bin`, e.g. `models/kokoro-af_heart.bin`, spoken by
/// `tts.kokoro_model`).
pub fn english_voice(
    ort: &crate::onnx_runtime::OrtRuntime,
    tts: &crate::config::TtsConfig,
) -> Result<Box<dyn Voice>, TtsError> {
    if tts.voice.extension().is_some_and(|e| e == "bin") {
        let files = KokoroFiles {
            voice: tts.voice.clone(),
            ..tts.kokoro_files()
        };
        let voice = KokoroVoice::load(ort, &files, 2)?;
        if voice.is_mandarin() {
            return Err(TtsError::Load {
                path: tts.voice.clone(),
                detail: "a Mandarin Kokoro voice cannot speak English: name an af_* or am_* voice \
                         (tts.mandarin_voice is the Mandarin one)"
                    .into(),
            });
        }
        Ok(Box::new(voice))
    } else {
        Ok(Box::new(
            PiperVoice::load(ort, &tts.voice)?.with_variation(tts.variation),
        ))
    }
}
