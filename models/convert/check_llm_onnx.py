"""Check an ONNX decoder from gguf_to_onnx.py (or its int8 version) with onnxruntime.

Usage:
    check_llm_onnx.py --model model.onnx --tokenizer tokenizer.json --reference ref.json
        [--config hotline-llm.json] [--threads 2] [--quantized]
        [--atol A] [--min-argmax-match F] [--cache-atol A]
        [--system TEXT] [--prompt "What is the capital of France?"] [--expect Paris]
        [--max-new-tokens 48]

Tolerances default to fp32 ones (atol 1e-3, argmax 100%, cache 1e-4). --quantized switches to
sanity bounds for int8 models (atol 10, argmax 75%, cache 10): their activations are quantized
per tensor at run time, so results depend on batch and chunking. Measured on SmolLM2-135M:
quantize_int8.py's model has |diff| 5-6 and 21/25 argmax agreement; one with every MatMul
quantized fails (14/25, cache |diff| 26).

Checks, each reported as PASS/FAIL, then a closing "N passed, N failed" line (exit 1 on any
failure):
  tokenizer   tokenizer.json loads; the reference ids decode and encode back to themselves; the
              ChatML markers are single special tokens.
  reference   logits for the reference ids against reference_forward.py: max |diff| of the last
              position's logits <= --atol, and the argmax agrees at >= --min-argmax-match of the
              positions (and at the last one).
  kv-cache    the same ids fed one token at a time, and in two chunks, through the KV cache
              match the one-shot logits (max |diff| <= --cache-atol).
  padding     a left-padded batch of two gives the unpadded logits for the padded row.
  generate    greedy decoding of a ChatML prompt (--system turn only if given; stop tokens from
              --config, else <|im_end|>) stops on a stop token and contains --expect; prints
              the text and the decode speed (tokens/s of a plain greedy loop).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

CHATML_MARKERS = ("<|im_start|>", "<|im_end|>")
FP32_TOLERANCES = {"atol": 1e-3, "min_argmax_match": 1.0, "cache_atol": 1e-4}
QUANTIZED_TOLERANCES = {"atol": 10.0, "min_argmax_match": 0.75, "cache_atol": 10.0}


class Decoder:
    """A session of the decoder, fed with explicit positions, mask and cache."""

    def __init__(self, path: Path, threads: int) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        started = time.monotonic()
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.load_s = time.monotonic() - started
        past = [i for i in self.session.get_inputs() if i.name.startswith("past_key_values.")]
        self.past_names = [i.name for i in past]
        self.kv_heads, self.head_dim = past[0].shape[1], past[0].shape[3]
        self.outputs = ["logits"] + [n.replace("past_key_values.", "present.") for n in self.past_names]

    def empty_cache(self, batch: int) -> list[np.ndarray]:
        return [np.zeros((batch, self.kv_heads, 0, self.head_dim), np.float32) for _ in self.past_names]

    def step(
        self, ids: np.ndarray, mask: np.ndarray, positions: np.ndarray, cache: list[np.ndarray]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        feed = {"input_ids": ids, "attention_mask": mask, "position_ids": positions}
        feed.update(zip(self.past_names, cache, strict=True))
        logits, *present = self.session.run(self.outputs, feed)
        return logits, present

    def full(self, ids: list[int]) -> np.ndarray:
        """Logits [len(ids), vocab] of one pass without cache."""
        n = len(ids)
        row = np.array([ids], np.int64)
        logits, _ = self.step(
            row, np.ones((1, n), np.int64), np.arange(n, dtype=np.int64)[None], self.empty_cache(1)
        )
        return logits[0]

    def chunks(self, ids: list[int], sizes: list[int]) -> np.ndarray:
        """Logits of `ids` fed in consecutive chunks of the given sizes through the cache."""
        cache, done, out = self.empty_cache(1), 0, []
        for size in sizes:
            chunk = np.array([ids[done : done + size]], np.int64)
            positions = np.arange(done, done + size, dtype=np.int64)[None]
            logits, cache = self.step(chunk, np.ones((1, done + size), np.int64), positions, cache)
            out.append(logits[0])
            done += size
        return np.concatenate(out)


class Checks:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def report(self, name: str, ok: bool, detail: str) -> None:
        print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1


def check_tokenizer(checks: Checks, tokenizer: Tokenizer, ids: list[int]) -> None:
    text = tokenizer.decode(ids, skip_special_tokens=False)
    again = tokenizer.encode(text, add_special_tokens=False).ids
    markers = [tokenizer.encode(m, add_special_tokens=False).ids for m in CHATML_MARKERS]
    ok = again == ids and all(len(m) == 1 for m in markers)
    checks.report("tokenizer", ok, f"reference ids round-trip {again == ids}, ChatML marker ids {markers}")


def check_reference(
    checks: Checks, logits: np.ndarray, reference: dict, atol: float, min_match: float
) -> None:
    want_last = np.array(reference["last_logits"], np.float64)
    diff = float(np.abs(logits[-1].astype(np.float64) - want_last).max())
    agree = logits.argmax(axis=-1) == np.array(reference["argmax_per_position"])
    match = float(agree.mean())
    ok = diff <= atol and match >= min_match and bool(agree[-1])
    checks.report(
        "reference",
        ok,
        f"last-position max |diff| {diff:.3g} (atol {atol:g}), argmax agrees at "
        f"{int(agree.sum())}/{agree.size} positions (need {min_match:.0%}, last {bool(agree[-1])})",
    )


def check_cache(checks: Checks, decoder: Decoder, ids: list[int], full: np.ndarray, atol: float) -> None:
    stepwise = decoder.chunks(ids, [1] * len(ids))
    half = len(ids) // 2
    chunked = decoder.chunks(ids, [half, len(ids) - half])
    step_diff = float(np.abs(stepwise - full).max())
    chunk_diff = float(np.abs(chunked - full).max())
    ok = max(step_diff, chunk_diff) <= atol
    checks.report(
        "kv-cache",
        ok,
        f"token-by-token max |diff| {step_diff:.3g}, two chunks {chunk_diff:.3g} (atol {atol:g})",
    )


def check_padding(checks: Checks, decoder: Decoder, ids: list[int], full: np.ndarray, atol: float) -> None:
    pad = 3
    short = ids[pad:]
    batch = np.array([ids, [0] * pad + short], np.int64)
    mask = np.ones_like(batch)
    mask[1, :pad] = 0
    positions = np.stack([np.arange(len(ids)), np.maximum(np.arange(len(ids)) - pad, 0)]).astype(np.int64)
    logits, _ = decoder.step(batch, mask, positions, decoder.empty_cache(2))
    alone = decoder.full(short)
    diff = max(float(np.abs(logits[0] - full).max()), float(np.abs(logits[1, pad:] - alone).max()))
    checks.report("padding", diff <= atol, f"left-padded batch of 2 vs unbatched: max |diff| {diff:.3g}")


def generate(
    decoder: Decoder, prompt: list[int], stop_ids: set[int], max_new: int
) -> tuple[list[int], float, float]:
    """Greedy decoding with the cache; returns new ids, prefill seconds and decode tokens/s."""
    started = time.monotonic()
    n = len(prompt)
    positions = np.arange(n, dtype=np.int64)[None]
    logits, cache = decoder.step(
        np.array([prompt], np.int64), np.ones((1, n), np.int64), positions, decoder.empty_cache(1)
    )
    prefill_s = time.monotonic() - started
    new = [int(logits[0, -1].argmax())]
    started = time.monotonic()
    while new[-1] not in stop_ids and len(new) < max_new:
        total = n + len(new)
        logits, cache = decoder.step(
            np.array([[new[-1]]], np.int64),
            np.ones((1, total), np.int64),
            np.array([[total - 1]], np.int64),
            cache,
        )
        new.append(int(logits[0, -1].argmax()))
    steps = len(new) - 1
    return new, prefill_s, steps / (time.monotonic() - started) if steps else 0.0


def chatml_prompt(system: str | None, user: str) -> str:
    turns = [("system", system)] if system else []
    turns.append(("user", user))
    return (
        "".join(f"<|im_start|>{role}\n{text}<|im_end|>\n" for role, text in turns) + "<|im_start|>assistant\n"
    )


def check_generation(
    checks: Checks, decoder: Decoder, tokenizer: Tokenizer, args: argparse.Namespace
) -> None:
    config = json.loads(args.config.read_text()) if args.config else {}
    stop_ids = set(config.get("stop_token_ids", [tokenizer.token_to_id("<|im_end|>")]))
    prompt = tokenizer.encode(chatml_prompt(args.system, args.prompt), add_special_tokens=False)
    new, prefill_s, tok_s = generate(decoder, prompt.ids, stop_ids, args.max_new_tokens)
    text = tokenizer.decode(new, skip_special_tokens=True)
    stopped = new[-1] in stop_ids
    ok = stopped and (args.expect is None or args.expect.lower() in text.lower())
    print(f"  prompt: {args.prompt!r} ({len(prompt.ids)} tokens)\n  reply:  {text!r}")
    checks.report(
        "generate",
        ok,
        f"{len(new)} tokens, stopped on a stop token {stopped}, expect {args.expect!r}; "
        f"prefill {prefill_s * 1000:.0f} ms, decode {tok_s:.1f} tokens/s on {args.threads} threads",
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="check_llm_onnx.py", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="the ONNX decoder")
    parser.add_argument("--tokenizer", type=Path, required=True, help="tokenizer.json")
    parser.add_argument("--reference", type=Path, required=True, help="reference_forward.py's JSON")
    parser.add_argument("--config", type=Path, help="hotline-llm.json, for its stop token ids")
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads")
    parser.add_argument("--quantized", action="store_true", help="int8 tolerances")
    parser.add_argument("--atol", type=float, help="reference logits tolerance")
    parser.add_argument("--min-argmax-match", type=float, help="share of positions")
    parser.add_argument("--cache-atol", type=float, help="cache and padding tolerance")
    parser.add_argument("--system", help="a system turn for the generation check (default: none)")
    parser.add_argument("--prompt", default="What is the capital of France?")
    parser.add_argument("--expect", default="Paris", help="text the reply must contain ('' for none)")
    parser.add_argument("--max-new-tokens", type=int, default=48)
    args = parser.parse_args()
    args.expect = args.expect or None
    defaults = QUANTIZED_TOLERANCES if args.quantized else FP32_TOLERANCES
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)

    reference = json.loads(args.reference.read_text())
    ids = reference["ids"]
    tokenizer = Tokenizer.from_file(str(args.tokenizer))
    decoder = Decoder(args.model, args.threads)
    print(f"{args.model}: loaded in {decoder.load_s:.1f} s", flush=True)
    checks = Checks()
    check_tokenizer(checks, tokenizer, ids)
    full = decoder.full(ids)
    check_reference(checks, full, reference, args.atol, args.min_argmax_match)
    check_cache(checks, decoder, ids, full, args.cache_atol)
    check_padding(checks, decoder, ids, full, args.cache_atol)
    check_generation(checks, decoder, tokenizer, args)
    print(f"check_llm_onnx: {checks.passed} passed, {checks.failed} failed")
    sys.exit(1 if checks.failed else 0)


if __name__ == "__main__":
    main()
