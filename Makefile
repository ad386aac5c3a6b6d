# The two commands of the README. Both run the whole set-up first (idempotent, fast when done).
.PHONY: setup serve test check bench bench-voice bench-models

setup:
	./scripts/setup.sh

serve: setup
	./target/release/hotline serve

# The optional models too (Qwen2.5-Coder-1.5B, ~14 GB in the cache): tests/llm_conversion.rs checks them.
test: setup
	./target/release/hotline models fetch --all
	cargo fmt --all --check
	cargo clippy --release --all-targets --workspace -- -D warnings
	cargo test --release --workspace --no-fail-fast
	./scripts/fuzz.sh

check: setup
	./target/release/hotline models check

# Speed and accuracy beside faster-whisper and piper-tts (their venv is made on first use).
bench: setup
	./benches/baselines/setup.sh
	cargo bench --bench speech

# Voice-to-voice latency by stage, hotline beside a plain cascade of the same parts.
bench-voice: setup
	./benches/voice_latency.sh

# The dialog model chosen by measurement: the scenario suites with each candidate model.
bench-models: setup
	./target/release/hotline models fetch --all
	./benches/model_choice.sh
	./benches/model_choice.sh --voice smollm2-135m-q8 qwen2.5-coder-0.5b-q8
