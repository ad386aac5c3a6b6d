//! espeak-ng's phonemizer, for every voice that needs it: Piper reads its phonemes, and the
//! Mandarin voice reads English words inside Mandarin text with them.

use std::sync::Mutex;

/// espeak-ng keeps one global state (the selected voice, its buffers): two threads
/// phonemizing at once corrupt each other ("Failed to set voice"). Every phonemization in the
/// process goes through this lock.
static ESPEAK: Mutex<()> = Mutex::new(());

/// `text` in espeak-ng's IPA for `voice` (e.g. `en-us`), with stress marks; clauses joined
/// by a space.
pub fn phonemes(text: &str, voice: &str) -> Result<String, String> {
    // A panic while holding the lock leaves espeak's state as it was: keep going.
    let _espeak = ESPEAK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    espeak_rs::text_to_phonemes(text, voice, None)
        .map(|clauses| clauses.join(" "))
        .map_err(|e| e.to_string())
}
