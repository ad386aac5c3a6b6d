//! Constrained decoding with llguidance: when the model acts, each token is masked so that the
//! output can only be a valid sentence of a grammar (a JSON schema of tool calls, say), and the
//! smallest model never emits an invalid call.

use std::path::Path;
use std::time::{Duration, Instant};

use llguidance::api::TopLevelGrammar;
use llguidance::{Matcher, ParserFactory};
use serde_json::{Value, json};
use toktrie_hf_tokenizers::ByteTokenizer;

use super::decoder::LlmError;

fn grammar_err(e: impl std::fmt::Display) -> LlmError {
    LlmError::Grammar(e.to_string())
}

/// Compiles grammars for one tokenizer (building its token trie once).
pub struct ConstraintFactory {
    factory: ParserFactory,
}

impl ConstraintFactory {
    /// `vocab_size` is the model's logits width; `stop_ids` end a finished sentence.
    pub fn new(
        tokenizer: &Path,
        vocab_size: usize,
        stop_ids: &[u32],
    ) -> Result<ConstraintFactory, LlmError> {
        let mut bytes = ByteTokenizer::from_file(tokenizer).map_err(grammar_err)?;
        bytes.set_eos_tokens(stop_ids);
        let env = bytes.into_tok_env(Some(vocab_size)).map_err(grammar_err)?;
        let mut factory = ParserFactory::new_simple(&env).map_err(grammar_err)?;
        factory.quiet();
        Ok(ConstraintFactory { factory })
    }

    /// A constraint to JSON matching `schema`, laid out one way only: `": "` between a key
    /// and its value, `", "` between items and no other whitespace (the layout of the
    /// prompts' examples). The model then never spends a step on whitespace, and what a
    /// choice implies (`", "args": {"order_id": "` once a tool is chosen, `"}` once a reply
    /// kind is) is forced and fed in one step with it.
    pub fn json_schema(&self, mut schema: Value) -> Result<TokenConstraint, LlmError> {
        if let Some(fields) = schema.as_object_mut() {
            fields.insert(
                "x-guidance".into(),
                json!({
                    "whitespace_flexible": false,
                    "key_separator": ": ",
                    "item_separator": ", ",
                }),
            );
        }
        let parser = self
            .factory
            .create_parser(TopLevelGrammar::from_json_schema(schema))
            .map_err(grammar_err)?;
        Ok(TokenConstraint {
            matcher: Matcher::new(Ok(parser)),
            mask_time: Duration::ZERO,
            steps: 0,
        })
    }
}

/// One generation's grammar state.
pub struct TokenConstraint {
    matcher: Matcher,
    mask_time: Duration,
    steps: u32,
}

impl TokenConstraint {
    /// The sentence is complete: nothing more may be generated.
    pub fn is_stopped(&self) -> bool {
        self.matcher.is_stopped()
    }

    /// Sets the logits of every token the grammar does not allow next to minus infinity.
    pub fn apply(&mut self, logits: &mut [f32]) -> Result<(), LlmError> {
        let started = Instant::now();
        let mask = self.matcher.compute_mask().map_err(grammar_err)?;
        for (id, logit) in logits.iter_mut().enumerate() {
            if !mask.is_allowed(id as u32) {
                *logit = f32::NEG_INFINITY;
            }
        }
        self.mask_time += started.elapsed();
        self.steps += 1;
        Ok(())
    }

    /// Advances the grammar by the chosen token.
    pub fn accept(&mut self, token: u32) -> Result<(), LlmError> {
        self.matcher.consume_token(token).map_err(grammar_err)
    }

    /// Tokens the grammar forces next (none when there is a choice); not yet accepted.
    pub fn forced(&mut self) -> Vec<u32> {
        self.matcher.compute_ff_tokens()
    }

    /// Advances the grammar by several tokens.
    pub fn accept_all(&mut self, tokens: &[u32]) -> Result<(), LlmError> {
        self.matcher.consume_tokens(tokens).map_err(grammar_err)
    }

    /// Mean time to compute one token mask.
    pub fn mean_mask_time(&self) -> Duration {
        if self.steps == 0 {
            Duration::ZERO
        } else {
            self.mask_time / self.steps
        }
    }
}
