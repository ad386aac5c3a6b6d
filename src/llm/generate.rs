//! Text in, text out: tokenization and greedy generation on a [`Decoder`].

use std::path::Path;

use tokenizers::Tokenizer;

use super::decoder::{Decoder, LlmError, argmax};

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

/// Continues `prompt` greedily for at most `max_new` tokens, stopping at the end-of-text
/// token or a stop string. Returns the new text only.
pub fn greedy(
    decoder: &mut Decoder,
    tokenizer: &Tokenizer,
    prompt: &str,
    max_new: usize,
) -> Result<String, LlmError> {
    let prompt_ids = encode(tokenizer, prompt)?;
    if prompt_ids.is_empty() {
        return Err(LlmError::Inference(
            "the prompt encodes to no tokens".into(),
        ));
    }
    let mut stop_ids = decoder.config().stop_token_ids.clone();
    stop_ids.extend(tokenizer.token_to_id(&decoder.config().eos_token));
    let stops = decoder.config().stop_strings.clone();
    let vocab = decoder.vocab_size();
    let mut cache = decoder.empty_cache()?;
    let logits = decoder.forward(&mut cache, &prompt_ids)?;
    let mut next = argmax(&logits[logits.len() - vocab..]) as u32;
    let mut generated: Vec<u32> = Vec::new();
    let mut text = String::new();
    for _ in 0..max_new {
        if stop_ids.contains(&next) {
            break;
        }
        generated.push(next);
        text = tokenizer
            .decode(&generated, false)
            .map_err(|e| LlmError::Inference(format!("tokenizer: {e}")))?;
        if let Some(cut) = stops.iter().filter_map(|s| text.find(s.as_str())).min() {
            text.truncate(cut);
            break;
        }
        let logits = decoder.forward(&mut cache, &[next])?;
        next = argmax(&logits) as u32;
    }
    Ok(text)
}
