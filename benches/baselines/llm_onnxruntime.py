"""A plain Python ONNX Runtime greedy loop over an ONNX decoder with KV cache: the baseline for
`hotline bench llm`. It gets the prompt as token ids (so no tokenizer is involved), prefills the
whole prompt, then feeds back one token at a time with the `present.*` outputs as the next
`past_key_values.*` inputs, always taking the argmax, for exactly `--new` tokens.

Prints ONE JSON line:
{"engine":"onnxruntime-python","version":...,"load_s":...,"ttft_s":...,"tokens":N,"tokens_per_s":...}
where ttft_s is prefill plus the first argmax and tokens_per_s counts the tokens after the first.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from common import emit, limit_threads, positive_int, timed_runs

PROG = "llm_onnxruntime.py"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="ONNX decoder in the Hugging Face KV-cache layout")
    parser.add_argument("--ids", required=True, help="prompt token ids, comma-separated")
    parser.add_argument("--new", type=positive_int, required=True, help="tokens to generate")
    parser.add_argument("--threads", type=positive_int, default=2)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    limit_threads(args.threads)
    import numpy as np
    import onnxruntime as ort

    ids = [int(x) for x in args.ids.split(",") if x.strip()]
    if not ids:
        print(f"{PROG}: error: no prompt ids", file=sys.stderr)
        return 1
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    started = time.perf_counter()
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    load_s = time.perf_counter() - started
    past_inputs = [i for i in session.get_inputs() if i.name.startswith("past_key_values.")]
    present_names = [o.name for o in session.get_outputs() if o.name.startswith("present.")]

    def empty_past() -> dict[str, np.ndarray]:
        past = {}
        for inp in past_inputs:
            _, heads, _, dim = inp.shape
            past[inp.name] = np.zeros((1, int(heads), 0, int(dim)), dtype=np.float32)
        return past

    def step(tokens: list[int], past: dict[str, np.ndarray], position: int):
        n = len(tokens)
        feeds = {
            "input_ids": np.array([tokens], dtype=np.int64),
            "attention_mask": np.ones((1, position + n), dtype=np.int64),
            "position_ids": np.arange(position, position + n, dtype=np.int64)[None, :],
            **past,
        }
        outputs = session.run(None, feeds)
        names = [o.name for o in session.get_outputs()]
        result = dict(zip(names, outputs))
        next_past = {
            name.replace("present.", "past_key_values."): result[name] for name in present_names
        }
        return int(np.argmax(result["logits"][0, -1])), next_past

    def run() -> tuple[float, float]:
        t0 = time.perf_counter()
        token, past = step(ids, empty_past(), 0)
        ttft = time.perf_counter() - t0
        position = len(ids)
        t1 = time.perf_counter()
        for _ in range(args.new - 1):
            token, past = step([token], past, position)
            position += 1
        decode = time.perf_counter() - t1
        return ttft, (args.new - 1) / decode if args.new > 1 and decode > 0 else float("nan")

    results = timed_runs(run)
    emit(
        {
            "engine": "onnxruntime-python",
            "version": ort.__version__,
            "load_s": load_s,
            "ttft_s": statistics.median(r[0] for r in results),
            "tokens": args.new,
            "tokens_per_s": statistics.median(r[1] for r in results),
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
