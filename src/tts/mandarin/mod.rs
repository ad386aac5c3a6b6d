//! Mandarin text to the phonemes of Kokoro v1.0's Mandarin voices: [`numbers`] writes numbers
//! out in hanzi as a Mandarin speaker says them, [`g2p`] segments and reads the text by phrase,
//! [`syllable`] turns each pinyin syllable into IPA with a tone arrow, and [`latin`] reads the
//! English words in between.

pub mod g2p;
pub mod latin;
pub mod numbers;
pub mod syllable;

pub use g2p::{MandarinG2p, Piece};
