//! Text generation on a [`Decoder`]: tokenization, sampling, streaming text out as it is
//! generated, stop strings, cancellation, and **prefix KV-cache reuse**: a [`Sequence`] keeps
//! the tokens its cache holds, so when the next prompt starts with them (the system prompt,
//! the conversation so far) only the new tokens are computed.

use std::path::Path;
use std::time::{Duration, Instant};

use tokenizers::Tokenizer;

use super::constrained::TokenConstraint;
use super::decoder::{Decoder, KvCache, LlmError};
use super::model_config::LlmModelConfig;
use super::sampling::{Rng, Sampling, sample};
use crate::cancel::CancelToken;
use crate::onnx_runtime::OrtRuntime;

/// Loads a Hugging Face `tokenizer.json`.
pub fn load_tokenizer(path: &Path) -> Result<Tokenizer, LlmError> {
    if !path.is_file() {
        return Err(LlmError::Missing(path.to_owned()));
    }
    Tokenizer::from_file(path).map_err(|e| LlmError::Tokenizer {
        path: path.to_owned(),
        detail: e.to_string(),
    })
}

/// Encodes text exactly as written (special tokens in the text are recognised, nothing added).
pub fn encode(tokenizer: &Tokenizer, text: &str) -> Result<Vec<u32>, LlmError> {
    tokenizer
        .encode(text, false)
        .map(|e| e.get_ids().to_vec())
        .map_err(|e| LlmError::Inference(format!("tokenizer: {e}")))
}

#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub max_new_tokens: usize,
    pub sampling: Sampling,
    /// Text that ends the reply (not included in it), besides the model's own stop tokens.
    pub stop: Vec<String>,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            max_new_tokens: 128,
            sampling: Sampling::Greedy,
            stop: Vec::new(),
        }
    }
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The model's end-of-turn token.
    EndOfText,
    StopString,
    MaxTokens,
    Cancelled,
    ContextFull,
}

/// What one `generate` call did.
#[derive(Debug, Clone)]
pub struct Generation {
    pub text: String,
    pub tokens: usize,
    pub prompt_tokens: usize,
    /// Prompt tokens whose keys and values came from the cache instead of being computed.
    pub reused_tokens: usize,
    /// From the call to the first token the model chose (the prefill, with what the grammar
    /// forced before any choice); the whole call when the grammar left no choice.
    pub time_to_first_token: Duration,
    pub elapsed: Duration,
    pub stop: StopReason,
}

/// Tokens [`Generator::read_ahead`] computes between two looks at whether to go on.
pub const READ_AHEAD_STEP: usize = 16;

/// One conversation's tokens and the KV cache that holds them.
pub struct Sequence {
    ids: Vec<u32>,
    cache: KvCache,
}

impl Sequence {
    /// Tokens whose keys and values the cache holds.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// A model with its tokenizer: the shared part. Each conversation has its own [`Sequence`].
pub struct Generator {
    decoder: Decoder,
    tokenizer: Tokenizer,
    stop_ids: Vec<u32>,
    stop_strings: Vec<String>,
    scratch: Vec<(f32, u32)>,
}

impl Generator {
    pub fn new(decoder: Decoder, tokenizer: Tokenizer) -> Generator {
        let config = decoder.config();
        let mut stop_ids = config.stop_token_ids.clone();
        stop_ids.extend(tokenizer.token_to_id(&config.eos_token));
        let stop_strings = config.stop_strings.clone();
        Generator {
            decoder,
            tokenizer,
            stop_ids,
            stop_strings,
            scratch: Vec::new(),
        }
    }

    /// Loads model, tokenizer and description.
    pub fn load(
        ort: &OrtRuntime,
        model: &Path,
        tokenizer: &Path,
        description: &Path,
        threads: usize,
    ) -> Result<Generator, LlmError> {
        let config = LlmModelConfig::load(description).map_err(|e| LlmError::Load {
            path: description.to_owned(),
            detail: e.to_string(),
        })?;
        let tokenizer = load_tokenizer(tokenizer)?;
        let decoder = Decoder::load(ort, model, config, threads)?;
        Ok(Generator::new(decoder, tokenizer))
    }

    pub fn config(&self) -> &LlmModelConfig {
        self.decoder.config()
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Token ids that end a reply (the model's end-of-turn tokens).
    pub fn stop_ids(&self) -> &[u32] {
        &self.stop_ids
    }

    pub fn vocab_size(&self) -> usize {
        self.decoder.vocab_size()
    }

    pub fn encode(&self, text: &str) -> Result<Vec<u32>, LlmError> {
        encode(&self.tokenizer, text)
    }

    pub fn new_sequence(&self) -> Result<Sequence, LlmError> {
        Ok(Sequence {
            ids: Vec::new(),
            cache: self.decoder.empty_cache()?,
        })
    }

    /// Makes `seq` hold exactly `prompt`, computing only the tokens after the prefix it
    /// already holds. Returns how many were reused and the logits after the last prompt token.
    fn prefill(
        &mut self,
        seq: &mut Sequence,
        prompt: &[u32],
    ) -> Result<(usize, Vec<f32>), LlmError> {
        let common = seq
            .ids
            .iter()
            .zip(prompt)
            .take_while(|(a, b)| a == b)
            .count();
        // At least one token is fed, to get the logits that pick the first new token.
        let reuse = common.min(prompt.len().saturating_sub(1));
        if reuse < seq.ids.len() {
            if let Err(e) = self.decoder.truncate(&mut seq.cache, reuse) {
                // Keep tokens and cache in step: start the sequence afresh next time.
                seq.ids.clear();
                seq.cache = self.decoder.empty_cache()?;
                return Err(e);
            }
            seq.ids.truncate(reuse);
        }
        let fed = &prompt[reuse..];
        let logits = match self.decoder.forward_last(&mut seq.cache, fed) {
            Ok(l) => l,
            Err(e) => {
                // The cache is unusable after an error: start the sequence afresh next time.
                seq.ids.clear();
                seq.cache = self.decoder.empty_cache()?;
                return Err(e);
            }
        };
        seq.ids.extend_from_slice(fed);
        Ok((reuse, logits))
    }

    /// Computes the keys and values of `prompt` on `seq` (after the prefix it already holds)
    /// without generating: a later prompt that starts with it then only computes what follows.
    /// Works in steps of [`READ_AHEAD_STEP`] tokens and stops early, keeping what it computed,
    /// once `go_on` says no (other work is waiting). Returns how many tokens were computed.
    pub fn read_ahead(
        &mut self,
        seq: &mut Sequence,
        prompt: &str,
        mut go_on: impl FnMut() -> bool,
    ) -> Result<usize, LlmError> {
        let ids = self.encode(prompt)?;
        if ids.len() >= self.decoder.config().context_length {
            return Err(LlmError::ContextFull(self.decoder.config().context_length));
        }
        let mut end = seq.ids.iter().zip(&ids).take_while(|(a, b)| a == b).count();
        let mut computed = 0;
        while end < ids.len() && go_on() {
            end = (end + READ_AHEAD_STEP).min(ids.len());
            let (reused, _) = self.prefill(seq, &ids[..end])?;
            computed += end - reused;
        }
        Ok(computed)
    }

    /// Generates a reply to `prompt` (the full rendered conversation) on `seq`, calling
    /// `on_text` with each new piece of text as soon as it is certain (never a piece of a stop
    /// string). Checks `cancel` before every step.
    pub fn generate(
        &mut self,
        seq: &mut Sequence,
        prompt: &str,
        options: &GenerateOptions,
        cancel: &CancelToken,
        on_text: impl FnMut(&str),
    ) -> Result<Generation, LlmError> {
        self.generate_constrained(seq, prompt, options, None, cancel, on_text)
    }

    /// As [`Self::generate`], with every token forced to fit `constraint` when one is given;
    /// generation ends when the grammar's sentence is complete.
    pub fn generate_constrained(
        &mut self,
        seq: &mut Sequence,
        prompt: &str,
        options: &GenerateOptions,
        mut constraint: Option<&mut TokenConstraint>,
        cancel: &CancelToken,
        mut on_text: impl FnMut(&str),
    ) -> Result<Generation, LlmError> {
        let started = Instant::now();
        let prompt_ids = self.encode(prompt)?;
        if prompt_ids.is_empty() {
            return Err(LlmError::Inference(
                "the prompt encodes to no tokens".into(),
            ));
        }
        let context = self.decoder.config().context_length;
        if prompt_ids.len() >= context {
            return Err(LlmError::ContextFull(context));
        }
        let seed = match options.sampling {
            Sampling::TopP { seed, .. } => seed,
            Sampling::Greedy => 0,
        };
        let mut rng = Rng::new(seed);
        let mut stops = self.stop_strings.clone();
        stops.extend(options.stop.iter().filter(|s| !s.is_empty()).cloned());

        let mut generated: Vec<u32> = Vec::new();
        let mut detok = Detokenizer::default();
        let mut text = String::new();
        // What the grammar forces before any choice (`{"` of every action) goes in with the
        // prompt: one model step fewer.
        let mut fed = prompt_ids.clone();
        if let Some(c) = constraint.as_deref_mut() {
            let forced = c.forced();
            if !forced.is_empty()
                && forced.len() < options.max_new_tokens
                && fed.len() + forced.len() < context
            {
                c.accept_all(&forced)?;
                for &t in &forced {
                    generated.push(t);
                    text.push_str(&detok.next_piece(&self.tokenizer, &generated)?);
                }
                fed.extend_from_slice(&forced);
            }
        }
        // A grammar that left no choice (one tool and one order it can be about) has its
        // sentence written already: the model is not run at all (nothing of the prompt is
        // computed, so all of it counts as reused).
        let (reused, mut logits) = if constraint.as_deref().is_some_and(|c| c.is_stopped()) {
            (prompt_ids.len(), Vec::new())
        } else {
            self.prefill(seq, &fed)?
        };
        let mut emitted = 0usize;
        let mut first_token = None;
        let stop = loop {
            if cancel.is_cancelled() {
                break StopReason::Cancelled;
            }
            if let Some(c) = constraint.as_deref_mut() {
                if c.is_stopped() {
                    break StopReason::EndOfText;
                }
                c.apply(&mut logits)?;
            }
            let next = sample(&logits, options.sampling, &mut rng, &mut self.scratch);
            first_token.get_or_insert_with(|| started.elapsed());
            if self.stop_ids.contains(&next) {
                break StopReason::EndOfText;
            }
            if let Some(c) = constraint.as_deref_mut() {
                c.accept(next)?;
            }
            generated.push(next);
            text.push_str(&detok.next_piece(&self.tokenizer, &generated)?);
            if let Some(cut) = stops.iter().filter_map(|s| text.find(s.as_str())).min() {
                text.truncate(cut);
                break StopReason::StopString;
            }
            let safe = safe_len(&text, &stops);
            if safe > emitted {
                on_text(&text[emitted..safe]);
                emitted = safe;
            }
            if generated.len() >= options.max_new_tokens {
                break StopReason::MaxTokens;
            }
            if seq.len() + 1 >= context {
                break StopReason::ContextFull;
            }
            // Tokens the grammar forces (`", "args": {"order_id": "` once a tool is chosen)
            // are taken without sampling and fed with the chosen one in a single step.
            let mut feed = vec![next];
            if let Some(c) = constraint.as_deref_mut() {
                let forced = c.forced();
                if !forced.is_empty()
                    && generated.len() + forced.len() < options.max_new_tokens
                    && seq.len() + 1 + forced.len() < context
                {
                    c.accept_all(&forced)?;
                    for &t in &forced {
                        generated.push(t);
                        text.push_str(&detok.next_piece(&self.tokenizer, &generated)?);
                    }
                    feed.extend_from_slice(&forced);
                }
                // The sentence is complete: no step is needed to learn that it ends.
                if c.is_stopped() {
                    break StopReason::EndOfText;
                }
            }
            match self.decoder.forward_last(&mut seq.cache, &feed) {
                Ok(l) => logits = l,
                Err(e) => {
                    seq.ids.clear();
                    seq.cache = self.decoder.empty_cache()?;
                    return Err(e);
                }
            }
            seq.ids.extend_from_slice(&feed);
        };
        if stop != StopReason::StopString {
            text.push_str(&detok.rest(&self.tokenizer, &generated)?);
        }
        // Whatever was held back as a possible stop string, and was not one, goes out now.
        let end = if text.ends_with('\u{FFFD}') {
            text.trim_end_matches('\u{FFFD}').len()
        } else {
            text.len()
        };
        if end > emitted {
            on_text(&text[emitted..end]);
        }
        text.truncate(end);
        Ok(Generation {
            text,
            tokens: generated.len(),
            prompt_tokens: prompt_ids.len(),
            reused_tokens: reused.min(prompt_ids.len()),
            time_to_first_token: first_token.unwrap_or_else(|| started.elapsed()),
            elapsed: started.elapsed(),
            stop,
        })
    }
}

/// Turns tokens into text one step at a time at constant cost: decodes only the last few
/// tokens and returns what they add, holding back an incomplete UTF-8 sequence.
#[derive(Debug, Default)]
struct Detokenizer {
    prefix_offset: usize,
    read_offset: usize,
}

impl Detokenizer {
    /// The text of the tokens already shown since `prefix_offset`, and of all tokens since.
    fn decode_tail(
        &self,
        tokenizer: &Tokenizer,
        ids: &[u32],
    ) -> Result<(String, String), LlmError> {
        let decode = |ids: &[u32]| {
            tokenizer
                .decode(ids, false)
                .map_err(|e| LlmError::Inference(format!("tokenizer: {e}")))
        };
        Ok((
            decode(&ids[self.prefix_offset..self.read_offset])?,
            decode(&ids[self.prefix_offset..])?,
        ))
    }

    fn next_piece(&mut self, tokenizer: &Tokenizer, ids: &[u32]) -> Result<String, LlmError> {
        let (before, now) = self.decode_tail(tokenizer, ids)?;
        if now.len() > before.len()
            && !now.ends_with('\u{FFFD}')
            && now.is_char_boundary(before.len())
        {
            self.prefix_offset = self.read_offset;
            self.read_offset = ids.len();
            Ok(now[before.len()..].to_string())
        } else {
            Ok(String::new())
        }
    }

    /// Text still held back (an incomplete character at the very end).
    fn rest(&self, tokenizer: &Tokenizer, ids: &[u32]) -> Result<String, LlmError> {
        let (before, now) = self.decode_tail(tokenizer, ids)?;
        Ok(now
            .get(before.len()..)
            .unwrap_or("")
            .trim_end_matches('\u{FFFD}')
            .to_string())
    }
}

/// How much of `text` can be shown: all of it but a tail that may still become a stop string
/// or is an incomplete UTF-8 sequence (decoded as U+FFFD).
fn safe_len(text: &str, stops: &[String]) -> usize {
    let mut safe = text.len();
    for stop in stops {
        for (i, _) in stop.char_indices().skip(1) {
            if text.ends_with(&stop[..i]) {
                safe = safe.min(text.len() - i);
            }
        }
    }
    if let Some(pos) = text.find('\u{FFFD}') {
        safe = safe.min(pos);
    }
    while !text.is_char_boundary(safe) {
        safe -= 1;
    }
    safe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_back_what_could_be_a_stop_string() {
        let stops = vec!["<|im_end|>".to_string()];
        assert_eq!(safe_len("Hello <|im", &stops), "Hello ".len());
        assert_eq!(safe_len("Hello <", &stops), "Hello ".len());
        assert_eq!(safe_len("Hello", &stops), 5);
        assert_eq!(safe_len("a\u{FFFD}", &stops), 1);
        assert_eq!(safe_len("", &stops), 0);
    }
}
