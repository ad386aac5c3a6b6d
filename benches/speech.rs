//! `cargo bench --bench speech` (or `make bench`): the ASR and TTS tables, ours beside
//! faster-whisper and piper-tts on the same models and inputs, in the same run.
//! Needs `make setup` and `benches/baselines/setup.sh` first.

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let models = root.join("models");
    let ort = hotline::onnx_runtime::init(&models.join("libonnxruntime.so"))?;
    let threads = 2;
    let runs = 3;
    let asr = hotline::bench::asr::run(&root, &ort, &models, threads, runs)?;
    println!("{}", hotline::bench::asr::render(&asr, threads));
    let tts = hotline::bench::tts::run(
        &root,
        &ort,
        &models.join("en_US-joe-medium.onnx"),
        threads,
        runs,
    )?;
    println!("{}", hotline::bench::tts::render(&tts, threads));
    Ok(())
}
