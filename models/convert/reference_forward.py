"""A plain numpy float64 forward pass of a GGUF decoder, as a reference for the ONNX export.

Usage:
    reference_forward.py --downloads DIR --gguf SPEC=MEMBER|PATH --ids 1,2,3 --out ref.json
        [--share-embedding]

Writes JSON {"ids": [...], "last_logits": [vocab floats at the last position],
"argmax_per_position": [...]} for the token ids given, at positions 0..n-1, no cache.

This is deliberately a different path from gguf_to_onnx.py: it shares only GGUF reading and
hyperparameters (gguf_common.py) and follows llama.cpp rather than Hugging Face. The q/k weights
stay as the GGUF stores them and rotary is applied in llama.cpp's own convention for the
architecture ("norm": adjacent pairs (2i, 2i+1) for llama; "neox": pairs (i, i + d/2) for
qwen2); attention is computed head by head in float64 from the float32 dequantized weights.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from gguf_common import (
    ConvertError,
    GgufModel,
    Hyper,
    add_gguf_args,
    atomic_output,
    open_gguf,
    progress,
    run_cli,
)


def rms_norm(x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * weight


def rope(x: np.ndarray, hp: Hyper) -> np.ndarray:
    """Rotary embedding of x [seq, heads, head_dim] at positions 0..seq-1, llama.cpp style."""
    d = hp.head_dim
    theta = np.arange(x.shape[0], dtype=np.float64)[:, None] * hp.rope_theta ** (-np.arange(0, d, 2) / d)
    cos, sin = np.cos(theta)[:, None, :], np.sin(theta)[:, None, :]
    if hp.rope_style == "norm":
        first, second = x[..., 0::2], x[..., 1::2]
    else:
        first, second = x[..., : d // 2], x[..., d // 2 :]
    rotated_first = first * cos - second * sin
    rotated_second = first * sin + second * cos
    out = np.empty_like(x)
    if hp.rope_style == "norm":
        out[..., 0::2], out[..., 1::2] = rotated_first, rotated_second
    else:
        out[..., : d // 2], out[..., d // 2 :] = rotated_first, rotated_second
    return out


def forward(model: GgufModel, hp: Hyper, ids: list[int], share_embedding: bool = False) -> np.ndarray:
    """Logits [len(ids), vocab] in float64.

    With `share_embedding` (as gguf_to_onnx.py's option) a model that stores its tied matrix
    twice embeds with the output copy as well.
    """

    def weight(name: str) -> np.ndarray:
        return model.tensor(name).astype(np.float64)

    def project(x: np.ndarray, prefix: str) -> np.ndarray:
        y = x @ weight(f"{prefix}.weight").T
        if model.has_tensor(f"{prefix}.bias"):
            y = y + weight(f"{prefix}.bias")
        return y

    shared = share_embedding and not hp.tied_embeddings
    embedding = weight("output.weight" if shared else "token_embd.weight")
    n = len(ids)
    x = embedding[ids]
    group = hp.n_heads // hp.n_kv_heads
    future = np.triu(np.ones((n, n), dtype=bool), k=1)
    for i in range(hp.n_layers):
        blk = f"blk.{i}"
        h = rms_norm(x, weight(f"{blk}.attn_norm.weight"), hp.rms_eps)
        q = rope(project(h, f"{blk}.attn_q").reshape(n, hp.n_heads, hp.head_dim), hp)
        k = rope(project(h, f"{blk}.attn_k").reshape(n, hp.n_kv_heads, hp.head_dim), hp)
        v = project(h, f"{blk}.attn_v").reshape(n, hp.n_kv_heads, hp.head_dim)
        heads = []
        for head in range(hp.n_heads):
            kv = head // group
            scores = q[:, head, :] @ k[:, kv, :].T / np.sqrt(hp.head_dim)
            scores[future] = -np.inf
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            heads.append((scores / scores.sum(axis=-1, keepdims=True)) @ v[:, kv, :])
        x = x + project(np.concatenate(heads, axis=-1), f"{blk}.attn_output")
        h = rms_norm(x, weight(f"{blk}.ffn_norm.weight"), hp.rms_eps)
        gate = project(h, f"{blk}.ffn_gate")
        x = x + project(gate / (1.0 + np.exp(-gate)) * project(h, f"{blk}.ffn_up"), f"{blk}.ffn_down")
    x = rms_norm(x, weight("output_norm.weight"), hp.rms_eps)
    head = embedding if hp.tied_embeddings else weight("output.weight")
    return x @ head.T


def parse_ids(text: str) -> list[int]:
    try:
        ids = [int(part) for part in text.split(",")]
    except ValueError:
        raise ConvertError(f"--ids {text!r}: want comma-separated token ids, e.g. 1,2,3") from None
    if not ids:
        raise ConvertError("--ids: give at least one token id")
    return ids


def run(args: argparse.Namespace) -> None:
    ids = parse_ids(args.ids)
    started = time.monotonic()
    with open_gguf(args.downloads, args.gguf) as model:
        hp = model.hyper()
        bad = [t for t in ids if not 0 <= t < hp.vocab_size]
        if bad:
            raise ConvertError(f"--ids: {bad} outside the vocabulary of {hp.vocab_size} tokens")
        logits = forward(model, hp, ids, args.share_embedding)
    result = {
        "ids": ids,
        "last_logits": [round(float(v), 6) for v in logits[-1]],
        "argmax_per_position": [int(t) for t in logits.argmax(axis=-1)],
    }
    with atomic_output(args.out) as tmp:
        tmp.write_text(json.dumps(result, separators=(",", ":")) + "\n")
    progress(f"wrote {args.out}: {len(ids)} positions in {time.monotonic() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(prog="reference_forward.py", description=__doc__.splitlines()[0])
    add_gguf_args(parser)
    parser.add_argument("--ids", required=True, help="comma-separated token ids")
    parser.add_argument("--out", type=Path, required=True, help="the JSON file to write")
    parser.add_argument(
        "--share-embedding", action="store_true", help="embed with output.weight, as gguf_to_onnx.py's option"
    )
    run_cli(parser, run)


if __name__ == "__main__":
    main()
