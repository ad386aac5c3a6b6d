//! One caller's speech recognition: audio accumulates while they talk, a partial transcript is
//! decoded every `partial_every` of new audio, and the final one at the end of the turn.
//!
//! The model is shared ([`WhisperEngine`]); the [`AsrStream`] owns its whisper state and
//! buffers. Decoding blocks for a few hundred milliseconds: streams run on an engine thread.
//! Out of silence or noise no text comes: the pipeline only feeds speech the VAD found, and
//! segments Whisper itself judges to be no speech (no-speech probability and average token
//! log-probability, the rule Whisper uses) are dropped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use whisper_rs::{FullParams, SamplingStrategy, WhisperState};

use super::SAMPLE_RATE;
use super::chinese_numbers::chinese_numbers_as_digits;
use super::digits::digits_as_ids;
use super::repeats::collapse_repeats;
use super::whisper::{AsrError, WhisperEngine};
use crate::dialog::language::is_han;
use crate::vad::finished_words::SENTENCE_STOPS;

/// The language Whisper is told to expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    En,
    Zh,
    /// Detect per utterance: English or Mandarin, whichever Whisper hears.
    Auto,
}

impl Language {
    pub fn parse(code: &str) -> Result<Language, AsrError> {
        match code {
            "en" => Ok(Language::En),
            "zh" => Ok(Language::Zh),
            "auto" => Ok(Language::Auto),
            other => Err(AsrError::Language(other.to_string())),
        }
    }

    fn whisper_code(self) -> Option<&'static str> {
        match self {
            Language::En => Some("en"),
            Language::Zh => Some("zh"),
            Language::Auto => None,
        }
    }
}

/// Words Whisper should expect on a shop's hotline; it steers spelling (refund, not "re-fund")
/// and makes it write order numbers as digits.
pub const DOMAIN_PROMPT_EN: &str = "Customer service call about an order. Order 100042, tracking number 1Z999AA10123456784, refund, return, exchange, cancel, delivery, address.";
/// The same in Simplified Chinese (also makes Whisper write Simplified characters).
pub const DOMAIN_PROMPT_ZH: &str =
    "客服电话，关于订单。订单号100042，退款，退货，换货，取消订单，物流，收货地址。";

#[derive(Debug, Clone)]
pub struct AsrOptions {
    pub language: Language,
    /// Decode a partial transcript after this much new audio (zero: never).
    pub partial_every: Duration,
    /// A segment whose no-speech probability is above this *and* whose average token
    /// log-probability is below `min_avg_logprob` is treated as silence.
    pub no_speech_threshold: f32,
    pub min_avg_logprob: f32,
    /// A segment with an average token log-probability below this is dropped whatever its
    /// no-speech probability (real speech measured -0.1 to -0.6; hallucinations -3).
    pub unsure_logprob: f32,
    /// Utterances quieter than this RMS (about -60 dBFS) are silence: no decode at all.
    pub silence_rms: f32,
    /// Longest utterance kept; older audio is dropped (Whisper hears 30 s at most).
    pub max_utterance: Duration,
    /// Silence the encoder sees after the utterance (see [`audio_ctx_for`]).
    pub context_margin: Duration,
    /// With an English-first model and `Language::Auto`: its words are kept when its mean
    /// token log-probability is at least this; below, the multilingual model's language check
    /// decides, and only Mandarin is decoded again (by the multilingual model). With
    /// `Language::En` the English-first model's words are always kept.
    pub english_sure_logprob: f32,
    pub threads: usize,
}

impl Default for AsrOptions {
    fn default() -> Self {
        AsrOptions {
            language: Language::En,
            partial_every: Duration::from_millis(1000),
            no_speech_threshold: 0.6,
            min_avg_logprob: -1.0,
            unsure_logprob: -2.0,
            silence_rms: 0.001,
            max_utterance: Duration::from_secs(28),
            context_margin: DEFAULT_CONTEXT_MARGIN,
            english_sure_logprob: ENGLISH_SURE_LOGPROB,
            threads: 2,
        }
    }
}

/// A transcript of the utterance so far (partial) or of the whole turn (final).
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    pub text: String,
    pub is_final: bool,
    /// Audio the transcript covers.
    pub audio: Duration,
    /// Audio this decode ran on: `audio` less the sentences already closed
    /// ([`AsrStream::commit_sentence`]).
    pub decoded: Duration,
    /// Wall time the decode took.
    pub decode_time: Duration,
    /// The language it was decoded in (detected, with `Language::Auto`).
    pub language: Language,
    /// The deciding model's mean token log-probability (see [`Decoded::avg_logprob`]).
    pub avg_logprob: f32,
    /// The English-first model's words were kept (no multilingual decode).
    pub english_first: bool,
}

/// A model and this stream's decoding state on it.
struct Model {
    engine: Arc<WhisperEngine>,
    state: WhisperState,
}

impl Model {
    fn new(engine: Arc<WhisperEngine>) -> Result<Model, AsrError> {
        let state = engine.create_state()?;
        Ok(Model { engine, state })
    }

    fn decode(
        &mut self,
        options: &AsrOptions,
        samples: &[f32],
        language: Language,
    ) -> Result<Decoded, AsrError> {
        let options = AsrOptions {
            language,
            ..options.clone()
        };
        self.engine.run(&mut self.state, samples, &options)
    }
}

/// One caller's utterances, decoded by one model, or by two: an English-only model first while
/// the call is in English (fast: Whisper tiny.en decodes in about half the time of base), and
/// the multilingual model when that one is unsure of what it heard (a caller who switched to
/// Mandarin sounds like nothing English) or once the call is in Mandarin.
pub struct AsrStream {
    main: Model,
    english: Option<Model>,
    options: AsrOptions,
    audio: Vec<f32>,
    decoded_up_to: usize,
    /// The words of the utterance's closed sentences and the samples they cover: kept when the
    /// caller goes on, not decoded again.
    said: String,
    said_up_to: usize,
    /// The last tentative decode: the samples it covered and its words (see `commit_sentence`).
    last_tentative: Option<(usize, String)>,
    /// The language check of the utterance's start: how many samples it heard (at most
    /// [`LANGUAGE_CHECK_FRAMES`]' worth), and its lean.
    checked: Option<(usize, f32)>,
    /// With `Language::Auto`, the language of the last utterance (English at first).
    heard: Language,
}

/// Whisper's encoder sees 50 frames per second (1500 for 30 s).
const CTX_FRAMES_PER_SECOND: usize = 50;
/// Whisper's whole context: 30 s.
const FULL_CTX_FRAMES: usize = 1500;
/// The shortest utterance [`audio_ctx_for`] counts with: 2.56 s.
const MIN_CTX_FRAMES: usize = 128;
/// whisper.cpp refuses input shorter than a second; shorter utterances are padded with silence.
const MIN_SAMPLES: usize = SAMPLE_RATE as usize + SAMPLE_RATE as usize / 20;

impl AsrStream {
    pub fn new(engine: Arc<WhisperEngine>, options: AsrOptions) -> Result<AsrStream, AsrError> {
        let capacity = options.max_utterance.as_secs() as usize * SAMPLE_RATE as usize;
        Ok(AsrStream {
            main: Model::new(engine)?,
            english: None,
            options,
            audio: Vec::with_capacity(capacity),
            decoded_up_to: 0,
            said: String::new(),
            said_up_to: 0,
            last_tentative: None,
            checked: None,
            heard: Language::En,
        })
    }

    /// Decode with `engine` (an English-only model) first while the call is in English; when
    /// it is unsure, the stream's own model checks the language, and decodes Mandarin. Ready
    /// the check with [`WhisperEngine::prepare_language_check`] on the stream's model.
    pub fn with_english_first(mut self, engine: Arc<WhisperEngine>) -> Result<AsrStream, AsrError> {
        self.english = Some(Model::new(engine)?);
        Ok(self)
    }

    /// The language the next utterance is expected in with `Language::Auto`, when detection
    /// names neither English nor Mandarin (at first: the call's greeting language).
    pub fn expect(&mut self, language: Language) {
        if language != Language::Auto {
            self.heard = language;
        }
    }

    pub fn set_language(&mut self, language: Language) {
        self.options.language = language;
    }

    /// Adds 16 kHz speech. Returns a partial transcript when enough new audio has arrived.
    pub fn push(&mut self, samples: &[f32]) -> Result<Option<Transcript>, AsrError> {
        let max = self.options.max_utterance.as_secs_f64() * f64::from(SAMPLE_RATE);
        self.audio.extend_from_slice(samples);
        if self.audio.len() as f64 > max {
            let excess = self.audio.len() - max as usize;
            self.audio.drain(..excess);
            self.decoded_up_to = self.decoded_up_to.saturating_sub(excess);
            self.said_up_to = self.said_up_to.saturating_sub(excess);
            self.checked = None;
            if let Some((len, _)) = self.last_tentative.as_mut() {
                *len = len.saturating_sub(excess);
            }
        }
        let every = (self.options.partial_every.as_secs_f64() * f64::from(SAMPLE_RATE)) as usize;
        if every == 0 || self.audio.len() - self.decoded_up_to < every {
            return Ok(None);
        }
        self.decoded_up_to = self.audio.len();
        self.decode(false).map(Some)
    }

    /// Audio held for the current utterance.
    pub fn buffered(&self) -> Duration {
        Duration::from_secs_f64(self.audio.len() as f64 / f64::from(SAMPLE_RATE))
    }

    /// Decodes everything pushed so far without ending the utterance: a partial on demand, or
    /// a speculative final during the end-of-turn silence (kept if the caller says no more).
    pub fn tentative(&mut self) -> Result<Transcript, AsrError> {
        self.decoded_up_to = self.audio.len();
        let transcript = self.decode(false)?;
        self.last_tentative = Some((self.audio.len(), transcript.text.clone()));
        Ok(transcript)
    }

    /// While the caller talks: once the utterance holds the whole window of the language check
    /// (its first 4 s), runs the check now, if a decode could need it (English-first decoding
    /// with `Language::Auto` in an English call), so that the decodes in the pauses do not
    /// wait for it when the English-first model turns out unsure (a quarter of a second on
    /// 2 cores). Once per utterance; returns whether it ran.
    pub fn check_language_ahead(&mut self) -> Result<bool, AsrError> {
        let could_need = self.english.is_some()
            && self.options.language == Language::Auto
            && self.heard == Language::En;
        let done = matches!(self.checked, Some((heard, _)) if heard == LANGUAGE_CHECK_SAMPLES);
        if !could_need || done || self.audio.len() < LANGUAGE_CHECK_SAMPLES {
            return Ok(false);
        }
        let window = &self.audio[..LANGUAGE_CHECK_SAMPLES];
        let lean = self
            .main
            .engine
            .language_lean(window, self.options.threads)?;
        self.checked = Some((LANGUAGE_CHECK_SAMPLES, lean));
        Ok(true)
    }

    /// The last tentative transcript, decoded in a pause, ends in a closed sentence
    /// (`vad::finished_words::sentence_closed`): its words are kept for this utterance, and
    /// later decodes hear only the audio after it. A caller who says three sentences with
    /// pauses between them is then decoded sentence by sentence: at the end of the turn
    /// Whisper hears the last sentence, not the whole turn again (its time grows with the
    /// audio). Returns whether there was a tentative transcript to keep.
    pub fn commit_sentence(&mut self) -> bool {
        match self.last_tentative.take() {
            Some((len, text)) => {
                self.said_up_to = len.min(self.audio.len());
                self.said = text;
                true
            }
            None => false,
        }
    }

    /// The end of the turn: the final transcript of everything pushed; the stream is then empty.
    pub fn finish(&mut self) -> Result<Transcript, AsrError> {
        let result = self.decode(true);
        self.reset();
        result
    }

    /// Drops the utterance (barge-in cancelled, or the caller went on after a speculative end).
    pub fn reset(&mut self) {
        self.audio.clear();
        self.decoded_up_to = 0;
        self.said.clear();
        self.said_up_to = 0;
        self.last_tentative = None;
        self.checked = None;
    }

    fn decode(&mut self, is_final: bool) -> Result<Transcript, AsrError> {
        let started = Instant::now();
        let seconds =
            |samples: usize| Duration::from_secs_f64(samples as f64 / f64::from(SAMPLE_RATE));
        let audio = seconds(self.audio.len());
        let new = &self.audio[self.said_up_to.min(self.audio.len())..];
        let decoded = seconds(new.len());
        let rms = if new.is_empty() {
            0.0
        } else {
            (new.iter().map(|s| s * s).sum::<f32>() / new.len() as f32).sqrt()
        };
        if rms < self.options.silence_rms {
            return Ok(Transcript {
                text: self.said.clone(),
                is_final,
                audio,
                decoded,
                decode_time: started.elapsed(),
                language: self.heard,
                avg_logprob: f32::NEG_INFINITY,
                english_first: false,
            });
        }
        let mut padded;
        let samples: &[f32] = if new.len() < MIN_SAMPLES {
            padded = Vec::with_capacity(MIN_SAMPLES);
            padded.extend_from_slice(new);
            padded.resize(MIN_SAMPLES, 0.0);
            &padded
        } else {
            new
        };
        let said = &self.said;
        let transcript = |heard: Decoded, language: Language, english_first: bool| Transcript {
            text: joined(said, &heard.text),
            is_final,
            audio,
            decoded,
            decode_time: started.elapsed(),
            language,
            avg_logprob: heard.avg_logprob,
            english_first,
        };
        let options = &self.options;
        let english_call = match options.language {
            Language::En => true,
            Language::Auto => self.heard == Language::En,
            Language::Zh => false,
        };
        if english_call && let Some(first) = self.english.as_mut() {
            let heard = first.decode(options, samples, Language::En)?;
            let english = options.language == Language::En
                || heard.avg_logprob >= options.english_sure_logprob
                || {
                    // Unsure: is it English at all? The multilingual model's ear on the start
                    // of the utterance (a fraction of a decode) says, unless it heard the same
                    // start already (`check_language_ahead`, or a decode in an earlier pause).
                    // The whole utterance's start, not the words after a kept sentence: a
                    // short "Thanks." alone is no evidence of a switch.
                    let heard_len = self.audio.len().min(LANGUAGE_CHECK_SAMPLES);
                    let start = if self.said_up_to == 0 {
                        samples
                    } else {
                        &self.audio[..]
                    };
                    let lean = match self.checked {
                        Some((len, lean)) if len == heard_len => lean,
                        _ => {
                            let lean = self.main.engine.language_lean(start, options.threads)?;
                            self.checked = Some((heard_len, lean));
                            lean
                        }
                    };
                    tracing::debug!(
                        avg_logprob = heard.avg_logprob,
                        lean,
                        text = %heard.text,
                        "the English-first model is unsure: language checked"
                    );
                    lean <= SWITCH_MARGIN
                };
            if english {
                return Ok(transcript(heard, Language::En, true));
            }
            tracing::debug!("the caller switched language: Mandarin");
            self.heard = Language::Zh;
            let heard = self.main.decode(options, samples, Language::Zh)?;
            return Ok(transcript(heard, Language::Zh, false));
        }
        let main = &mut self.main;
        let (heard, language) = match options.language {
            // Decoded in the language of the last utterance; the decoder's language guess on
            // the same encoder output (one step) says whether the caller switched, and only
            // then is it decoded again.
            Language::Auto => {
                let expected = self.heard;
                let heard = main.decode(options, samples, expected)?;
                let lean = main
                    .engine
                    .mandarin_over_english(&mut main.state, options.threads)?;
                tracing::debug!(lean, "Mandarin over English");
                let sounds = match expected {
                    Language::Zh if lean < -SWITCH_MARGIN => Language::En,
                    Language::En if lean > SWITCH_MARGIN => Language::Zh,
                    _ => expected,
                };
                if sounds == expected {
                    (heard, expected)
                } else {
                    tracing::debug!(?sounds, ?expected, "the caller switched language");
                    self.heard = sounds;
                    (main.decode(options, samples, sounds)?, sounds)
                }
            }
            fixed => (main.decode(options, samples, fixed)?, fixed),
        };
        Ok(transcript(heard, language, false))
    }
}

/// The words of closed sentences and those after them, as one transcript.
fn joined(said: &str, more: &str) -> String {
    match (said.is_empty(), more.is_empty()) {
        (_, true) => said.to_string(),
        (true, false) => more.to_string(),
        // Mandarin is written without spaces between sentences.
        (false, false)
            if said
                .trim_end_matches(SENTENCE_STOPS)
                .chars()
                .last()
                .is_some_and(is_han) =>
        {
            format!("{said}{more}")
        }
        (false, false) => format!("{said} {more}"),
    }
}

/// What one decode heard.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The text, no-speech segments dropped, spoken IDs as digits.
    pub text: String,
    /// The model's mean token log-probability over its surest segment, kept or dropped
    /// (`-inf`: no text token at all). Real speech in the decoded language: -0.1 to -0.6.
    pub avg_logprob: f32,
}

/// How clearly (in logits) an utterance must sound like the other language before the stream
/// switches to it: a short or unclear utterance keeps the call's language.
pub const SWITCH_MARGIN: f32 = 2.0;

/// The encoder context of the language check: 4 s (200 frames; the audio's first 4 s, and
/// silence after a shorter utterance).
pub const LANGUAGE_CHECK_FRAMES: usize = 200;
/// The same window in 16 kHz samples.
const LANGUAGE_CHECK_SAMPLES: usize =
    LANGUAGE_CHECK_FRAMES * (SAMPLE_RATE as usize / CTX_FRAMES_PER_SECOND);

/// Greedy decoding of one utterance in `language` (None: detected), printing nothing.
fn one_segment_params(threads: usize, language: Option<&str>) -> FullParams<'_, '_> {
    let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
    params.set_n_threads(threads.max(1) as i32);
    params.set_language(language);
    params.set_print_special(false);
    params.set_print_progress(false);
    params.set_print_realtime(false);
    params.set_print_timestamps(false);
    params.set_no_context(true);
    // A turn is one utterance: one segment, so Whisper cannot start a second one that repeats
    // the first (its failure on short clips with a reduced audio context).
    params.set_single_segment(true);
    // No timestamp tokens: nothing here uses them, and with them whisper.cpp ends the segment
    // as soon as the model puts a timestamp near the end of the audio. On a 10.6 s reply that
    // cut "... one USB-C charger, $19.99 in total. It has shipped." after "charge" in about one
    // Piper rendering in four.
    params.set_no_timestamps(true);
    params
}

/// See [`AsrOptions::english_sure_logprob`].
/// Measured on the scenario suites' caller lines (espeak-ng through G.711, Kokoro for
/// Mandarin): tiny.en scored English -0.23 to -1.54, Mandarin -0.82 to -2.24; -0.6 keeps a
/// margin under the surest Mandarin, at the cost of checking more English.
pub const ENGLISH_SURE_LOGPROB: f32 = -0.6;

/// The silence after the utterance the encoder sees by default (see [`audio_ctx_for`]).
pub const DEFAULT_CONTEXT_MARGIN: Duration = Duration::from_millis(5120);

/// `audio_ctx` for `samples` of 16 kHz audio: the utterance's encoder frames (at least 2.56 s)
/// plus `margin` of silence. This is the big speed lever for short utterances (the full context
/// is 30 s); with too little margin Whisper repeats itself on short clips (measured before
/// single-segment decoding: a 3.5 s clip with a 1.3 s margin looped six times, with 5 s it was
/// transcribed once).
pub fn audio_ctx_for(samples: usize, margin: Duration) -> i32 {
    let frames = samples.div_ceil(SAMPLE_RATE as usize / CTX_FRAMES_PER_SECOND);
    let margin = usize::try_from(margin.as_millis())
        .unwrap_or(usize::MAX)
        .div_ceil(1000 / CTX_FRAMES_PER_SECOND)
        .min(FULL_CTX_FRAMES);
    (frames.max(MIN_CTX_FRAMES) + margin).min(FULL_CTX_FRAMES) as i32
}

impl WhisperEngine {
    /// Right after a decode on `state`: how much more its audio sounds like Mandarin than
    /// English (Cantonese counts as Mandarin here), as the difference of the decoder's
    /// language-token logits after the start-of-transcript token (above 0: Mandarin). One decoder step on the encoder output the decode
    /// left in the state; whisper.cpp's own detection encodes the audio again (measured: a
    /// quarter of a second per utterance on 2 cores).
    pub fn mandarin_over_english(
        &self,
        state: &mut WhisperState,
        threads: usize,
    ) -> Result<f32, AsrError> {
        let context = self.context();
        if !context.is_multilingual() {
            // tiny.en and its kind hear English only.
            return Ok(f32::NEG_INFINITY);
        }
        let inference = |e: whisper_rs::WhisperError| AsrError::Inference(e.to_string());
        state
            .decode(&[context.token_sot()], 0, threads.max(1))
            .map_err(inference)?;
        let logits = state.get_logits().map_err(inference)?;
        let logit = |code: &str| {
            whisper_rs::get_lang_id(code)
                .map(|id| context.token_lang(id))
                .and_then(|token| logits.get(usize::try_from(token).ok()?).copied())
                .unwrap_or(f32::NEG_INFINITY)
        };
        // Cantonese has a token only in the large-v3 vocabulary; before it, the id after the
        // last language token is <|translate|>.
        let mandarin = if state.n_vocab() > 51_865 {
            logit("zh").max(logit("yue"))
        } else {
            logit("zh")
        };
        Ok(mandarin - logit("en"))
    }

    /// Readies the language check ([`WhisperEngine::language_lean`]) so that no caller turn
    /// waits for its one-off set-up: whisper.cpp keeps the encoder context of a state's last
    /// decode, so one decode of a second of silence sets it to [`LANGUAGE_CHECK_FRAMES`].
    pub fn prepare_language_check(&self, threads: usize) -> Result<(), AsrError> {
        let mut check = self
            .language_check
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if check.is_none() {
            *check = Some(self.language_check_state(threads)?);
        }
        Ok(())
    }

    fn language_check_state(&self, threads: usize) -> Result<WhisperState, AsrError> {
        let mut state = self.create_state()?;
        let mut params = one_segment_params(threads, Some("en"));
        params.set_max_tokens(1);
        params.set_audio_ctx(LANGUAGE_CHECK_FRAMES as i32);
        state
            .full(params, &[0.0; MIN_SAMPLES])
            .map_err(|e| AsrError::Inference(e.to_string()))?;
        Ok(state)
    }

    /// How much more the start of `samples` (up to [`LANGUAGE_CHECK_FRAMES`]) sounds like
    /// Mandarin than English, as [`WhisperEngine::mandarin_over_english`] says: one short
    /// encoder pass and one decoder step on the model's one language-check state (calls take
    /// turns; each check is about a quarter of a second on 2 cores).
    pub fn language_lean(&self, samples: &[f32], threads: usize) -> Result<f32, AsrError> {
        let mut check = self
            .language_check
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let state = match check.as_mut() {
            Some(state) => state,
            None => check.insert(self.language_check_state(threads)?),
        };
        let inference = |e: whisper_rs::WhisperError| AsrError::Inference(e.to_string());
        let clip = &samples[..samples.len().min(LANGUAGE_CHECK_SAMPLES)];
        state.pcm_to_mel(clip, threads.max(1)).map_err(inference)?;
        state.encode(0, threads.max(1)).map_err(inference)?;
        self.mandarin_over_english(state, threads)
    }

    /// A fresh per-stream state of this model.
    pub fn create_state(&self) -> Result<WhisperState, AsrError> {
        self.context()
            .create_state()
            .map_err(|e| AsrError::Inference(e.to_string()))
    }

    /// Decodes `samples` (16 kHz) on `state`; returns the text with no-speech segments dropped
    /// and spoken IDs written as digits.
    pub fn run(
        &self,
        state: &mut WhisperState,
        samples: &[f32],
        options: &AsrOptions,
    ) -> Result<Decoded, AsrError> {
        let mut params = one_segment_params(options.threads, options.language.whisper_code());
        params.set_suppress_blank(true);
        params.set_suppress_nst(true);
        params.set_temperature(0.0);
        // One greedy pass, no temperature fallback (it re-decodes up to five times when
        // unsure: seconds of latency). Its job, breaking repetition loops on short clips, is
        // done by the token cap (nobody says more than about eight tokens a second) and by
        // dropping repeated segments below.
        params.set_temperature_inc(0.0);
        let seconds = samples.len() / SAMPLE_RATE as usize + 1;
        params.set_max_tokens((16 + 8 * seconds) as i32);
        params.set_audio_ctx(audio_ctx_for(samples.len(), options.context_margin));
        let prompt = match options.language {
            Language::Zh => DOMAIN_PROMPT_ZH,
            Language::En | Language::Auto => DOMAIN_PROMPT_EN,
        };
        params.set_initial_prompt(prompt);
        state
            .full(params, samples)
            .map_err(|e| AsrError::Inference(e.to_string()))?;
        let mut text = String::new();
        let mut last_piece = String::new();
        let mut avg_logprob = f32::NEG_INFINITY;
        for segment in state.as_iter() {
            let n = segment.n_tokens();
            let mut logprob_sum = 0.0f32;
            let mut counted = 0;
            for t in 0..n {
                if let Some(token) = segment.get_token(t) {
                    let data = token.token_data();
                    // Timestamps and special tokens have ids past the text vocabulary.
                    if data.id < self.eot_token() {
                        logprob_sum += data.plog;
                        counted += 1;
                    }
                }
            }
            let segment_logprob = if counted == 0 {
                f32::NEG_INFINITY
            } else {
                logprob_sum / counted as f32
            };
            avg_logprob = avg_logprob.max(segment_logprob);
            let avg_logprob = segment_logprob;
            let no_speech = segment.no_speech_probability();
            tracing::debug!(no_speech, avg_logprob, "whisper segment");
            let whisper_rule =
                no_speech > options.no_speech_threshold && avg_logprob < options.min_avg_logprob;
            // whisper.cpp's no-speech probability stays near zero for digital silence, on which
            // Whisper still "hears" a word like "You" at very low confidence: drop those too.
            if counted == 0 || whisper_rule || avg_logprob < options.unsure_logprob {
                continue;
            }
            // Whisper's tokens are bytes: it can emit part of a character's bytes and go on
            // with another token (seen with a Mandarin comma). A turn is one segment, so there
            // is no later segment to complete it: the stray bytes are dropped, not shown as
            // U+FFFD.
            let piece = segment
                .to_str_lossy()
                .map_err(|e| AsrError::Inference(e.to_string()))?
                .replace('\u{FFFD}', "");
            // Whisper's known failure on short clips is to say the same segment again and
            // again; a caller does not repeat a sentence word for word within one turn.
            if piece.trim() == last_piece.trim() {
                continue;
            }
            text.push_str(&piece);
            last_piece = piece;
        }
        let text = digits_as_ids(&collapse_repeats(text.trim()));
        let text = if text.chars().any(is_han) {
            chinese_numbers_as_digits(&text)
        } else {
            text
        };
        Ok(Decoded { text, avg_logprob })
    }
}
