//! A Kokoro-82M v1.0 voice on ONNX Runtime: the model (`kokoro-v1.0.int8.onnx`), its phoneme
//! vocabulary (`vocab.json`, phoneme → id) and one voice's style table (raw little-endian f32,
//! 510 rows of 256: the row for an input of n phonemes is row n). The voice's name says how it
//! reads text, by misaki's language letters: Mandarin voices (`zf_*`, `zm_*`) through
//! [`MandarinG2p`], American English ones (`af_*`, `am_*`) through espeak-ng ([`misaki`]) after
//! the same normalization as Piper's. The file may carry a `kokoro-` prefix
//! (`kokoro-af_heart.bin`).
//!
//! The graph: `tokens` i64 `[1, n + 2]` (ids padded with 0 at both ends), `style` f32
//! `[1, 256]`, `speed` f32 `[1]` → `audio` f32 at 24 kHz.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ort::session::Session;
use ort::value::Tensor;

use super::clauses::cut_at_spaces;
use super::mandarin::MandarinG2p;
use super::misaki;
use super::normalize::normalize;
use super::voice::{TtsError, Voice};
use crate::audio::Clip;
use crate::onnx_runtime::OrtRuntime;

/// Kokoro speaks at 24 kHz.
pub const SAMPLE_RATE: u32 = 24_000;
/// Width of one style vector.
const STYLE_WIDTH: usize = 256;
/// Rows in a voice's style table; also the most phonemes one inference takes (with padding).
const STYLE_ROWS: usize = 510;
/// Phonemes per inference: the table's rows less the two pads, less a margin for the
/// space that a cut at a word boundary keeps.
const MAX_PHONEMES: usize = STYLE_ROWS - 10;

/// The files of one Kokoro voice.
#[derive(Debug, Clone, PartialEq)]
pub struct KokoroFiles {
    pub model: PathBuf,
    pub vocab: PathBuf,
    pub voice: PathBuf,
}

pub struct KokoroVoice {
    session: Session,
    vocab: HashMap<char, i64>,
    styles: Vec<f32>,
    reader: Reader,
    speed: f32,
}

/// How a voice turns text into phonemes: the language its name says it speaks.
enum Reader {
    Mandarin(Box<MandarinG2p>),
    AmericanEnglish,
}

impl Reader {
    /// From the voice file's name: `[kokoro-]zf_xiaobei.bin` is Mandarin, `af_heart` English.
    fn for_voice(path: &Path) -> Result<Reader, String> {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let name = stem.strip_prefix("kokoro-").unwrap_or(stem);
        match name.chars().next() {
            Some('z') => {
                let g2p = MandarinG2p::new();
                // The pinyin dictionary loads on first use (about 2 s here): now, not in a call.
                g2p.phonemes("您好");
                Ok(Reader::Mandarin(Box::new(g2p)))
            }
            Some('a') => Ok(Reader::AmericanEnglish),
            _ => Err(format!(
                "voice {name:?}: hotline reads Mandarin (z…) and American English (a…) Kokoro \
                 voices; the name's first letter is the language"
            )),
        }
    }
}

impl KokoroVoice {
    /// Loads the model, vocabulary and style table; ONNX Runtime uses `threads` threads.
    pub fn load(
        _ort: &OrtRuntime,
        files: &KokoroFiles,
        threads: usize,
    ) -> Result<KokoroVoice, TtsError> {
        for path in [&files.model, &files.vocab, &files.voice] {
            if !path.is_file() {
                return Err(TtsError::Missing(path.clone()));
            }
        }
        let load_err = |path: &Path, detail: String| TtsError::Load {
            path: path.to_owned(),
            detail,
        };
        let reader = Reader::for_voice(&files.voice).map_err(|d| load_err(&files.voice, d))?;
        let vocab = read_vocab(&files.vocab).map_err(|d| load_err(&files.vocab, d))?;
        let styles = read_styles(&files.voice).map_err(|d| load_err(&files.voice, d))?;
        let session = Session::builder()
            .and_then(|b| Ok(b.with_intra_threads(threads.max(1))?))
            .and_then(|mut b| b.commit_from_file(&files.model))
            .map_err(|e| load_err(&files.model, e.to_string()))?;
        Ok(KokoroVoice {
            session,
            vocab,
            styles,
            reader,
            speed: 1.0,
        })
    }

    /// Whether the voice reads Mandarin (a `z…` voice); otherwise American English.
    pub fn is_mandarin(&self) -> bool {
        matches!(self.reader, Reader::Mandarin(_))
    }

    /// The phoneme ids of `phonemes`; symbols outside the vocabulary (Latin text Kokoro's
    /// Mandarin front end passes through, emoji) are left out.
    pub fn ids(&self, phonemes: &str) -> Vec<i64> {
        phonemes
            .chars()
            .filter_map(|c| self.vocab.get(&c).copied())
            .collect()
    }

    /// Speaks a phoneme string (any length: cut at spaces into pieces the model takes).
    pub fn speak_phonemes(&mut self, phonemes: &str) -> Result<Vec<f32>, TtsError> {
        let mut audio = Vec::new();
        for piece in cut_at_spaces(phonemes, MAX_PHONEMES) {
            let ids = self.ids(&piece);
            if ids.is_empty() {
                continue;
            }
            audio.extend(self.infer(&ids).map_err(|detail| TtsError::Synthesis {
                text: piece.chars().take(80).collect(),
                detail,
            })?);
        }
        Ok(audio)
    }

    fn infer(&mut self, ids: &[i64]) -> Result<Vec<f32>, String> {
        let row = ids.len().min(STYLE_ROWS - 1);
        let style = self.styles[row * STYLE_WIDTH..(row + 1) * STYLE_WIDTH].to_vec();
        let mut tokens = Vec::with_capacity(ids.len() + 2);
        tokens.push(0);
        tokens.extend_from_slice(ids);
        tokens.push(0);
        let err = |e: ort::Error| e.to_string();
        let tokens = Tensor::from_array(([1usize, tokens.len()], tokens)).map_err(err)?;
        let style = Tensor::from_array(([1usize, STYLE_WIDTH], style)).map_err(err)?;
        let speed = Tensor::from_array(([1usize], vec![self.speed])).map_err(err)?;
        let outputs = self
            .session
            .run(ort::inputs!["tokens" => tokens, "style" => style, "speed" => speed])
            .map_err(err)?;
        let (_, audio) = outputs["audio"].try_extract_tensor::<f32>().map_err(err)?;
        Ok(audio.to_vec())
    }
}

impl Voice for KokoroVoice {
    fn sample_rate(&self) -> u32 {
        SAMPLE_RATE
    }

    /// Mandarin needs no normalization before clauses are cut (its front end reads numbers);
    /// English gets Piper's (numbers, money, dates, IDs and units written out).
    fn normalize(&self, text: &str) -> String {
        match self.reader {
            Reader::Mandarin(_) => text.split_whitespace().collect::<Vec<_>>().join(" "),
            Reader::AmericanEnglish => normalize(text),
        }
    }

    fn speak(&mut self, text: &str) -> Result<Clip, TtsError> {
        let phonemes = match &self.reader {
            Reader::Mandarin(g2p) => g2p.phonemes(text),
            Reader::AmericanEnglish => {
                misaki::english(text).map_err(|detail| TtsError::Synthesis {
                    text: text.chars().take(80).collect(),
                    detail,
                })?
            }
        };
        Ok(Clip {
            samples: self.speak_phonemes(&phonemes)?,
            sample_rate: SAMPLE_RATE,
        })
    }
}

fn read_vocab(path: &Path) -> Result<HashMap<char, i64>, String> {
    #[derive(serde::Deserialize)]
    struct VocabFile {
        vocab: HashMap<String, i64>,
    }
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let file: VocabFile = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let mut vocab = HashMap::new();
    for (symbol, id) in file.vocab {
        let mut chars = symbol.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => {
                vocab.insert(c, id);
            }
            _ => return Err(format!("vocabulary entry {symbol:?} is not one symbol")),
        }
    }
    if vocab.is_empty() {
        return Err("the vocabulary is empty".into());
    }
    Ok(vocab)
}

fn read_styles(path: &Path) -> Result<Vec<f32>, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let want = STYLE_ROWS * STYLE_WIDTH * 4;
    if bytes.len() != want {
        return Err(format!(
            "a voice is {want} bytes ({STYLE_ROWS} x {STYLE_WIDTH} f32), this one {}",
            bytes.len()
        ));
    }
    let styles: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    if styles.iter().any(|v| !v.is_finite()) {
        return Err("the style table holds values that are not finite".into());
    }
    Ok(styles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_phoneme_strings_are_cut_at_spaces() {
        assert_eq!(cut_at_spaces("ab cd ef", 5), ["ab cd", "ef"]);
        assert_eq!(cut_at_spaces("abcdefg", 3), ["abc", "def", "g"]);
        assert_eq!(cut_at_spaces("", 5), Vec::<String>::new());
        let long = "ni↓xau↓ ".repeat(200);
        assert!(
            cut_at_spaces(&long, MAX_PHONEMES)
                .iter()
                .all(|p| p.chars().count() <= MAX_PHONEMES)
        );
    }

    #[test]
    fn bad_vocabularies_and_voices_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let vocab = dir.path().join("vocab.json");
        std::fs::write(&vocab, r#"{"vocab": {"ab": 1}}"#).unwrap();
        assert!(read_vocab(&vocab).unwrap_err().contains("not one symbol"));
        std::fs::write(&vocab, "not json").unwrap();
        assert!(read_vocab(&vocab).is_err());
        let voice = dir.path().join("voice.bin");
        std::fs::write(&voice, [0u8; 100]).unwrap();
        assert!(read_styles(&voice).unwrap_err().contains("bytes"));
    }
}
