"""Quantize the fp32 ONNX decoder from gguf_to_onnx.py to 8-bit weights.

Usage:
    quantize_int8.py --input model.onnx --out model.int8.onnx [--method dynamic|matmulnbits]
        [--downloads DIR]   (accepted, as `hotline models fetch` passes it to every converter)

Measured on SmolLM2-135M against the fp32 model: 250 teacher-forced positions of three chat
replies (argmax agreement, mean KL of the next-token distributions) and greedy decoding on two
threads of a quiet 2-core machine; fp32 decodes at about 46 tokens/s.

--method dynamic (default): onnxruntime.quantization.quantize_dynamic with QInt8 weights, one
    scale per output channel, for the MatMul ops; activations are quantized to uint8 per tensor
    at run time. The file holds standard ONNX ops only (DynamicQuantizeLinear, MatMulInteger).
    Result: 82% argmax agreement, KL 0.10, about 67 tokens/s, 329 MB. Two choices:
      * The MatMuls that read the SwiGLU product (GGUF `ffn_down`) stay float32. Their input
        has "massive activations" (some channels thousands of times the median, at a few
        tokens), and one per-tensor scale then wipes out every other value: quantizing them
        too gave 57% agreement and KL 0.93, and the model lost the plot (81 tokens/s).
      * The token embedding Gather stays float32: quantizing it shrank the file to 244 MB but
        gave no speed (a Gather reads one row per token) and cost quality (KL 0.12). The output
        projection is quantized.
--method matmulnbits: every MatMul with a constant weight becomes onnxruntime's contrib op
    com.microsoft.MatMulNBits: 8-bit asymmetric weights in blocks of 32 along the input
    dimension, accuracy_level 4 (activations quantized per row and block of 32, so outliers stay
    local). Runs in onnxruntime only, but is faster and far closer to fp32: 96% argmax
    agreement, KL 0.006, about 85 tokens/s, 269 MB.

Both are deterministic: the same input gives the same bytes.

--external-data: the input may have its weights in `<input>.data` (gguf_to_onnx.py
--external-data), and the output's weights go to `<out>.data` beside it, for models over the
2 GB protobuf limit (Qwen2.5-Coder-1.5B).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import helper, numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic

from gguf_common import ConvertError, atomic_onnx_output, atomic_output, external_data_name, progress, run_cli

FLOAT_MATMUL_WEIGHT_SUFFIX = "ffn_down.weight"
NBITS_BLOCK = 32
NBITS_ACCURACY_LEVEL = 4


def save(model: onnx.ModelProto, dest: Path, external: bool) -> None:
    if external:
        onnx.save_model(
            model,
            str(dest),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=external_data_name(dest),
            size_threshold=1024,
        )
    else:
        onnx.save(model, str(dest))


def quantize_matmul_dynamic(model: onnx.ModelProto, source: Path, dest: Path, external: bool) -> None:
    keep_float = [
        node.name
        for node in model.graph.node
        if node.op_type == "MatMul" and node.input[1].endswith(FLOAT_MATMUL_WEIGHT_SUFFIX)
    ]
    # quantize_dynamic logs a warning to run its pre-processing, which is not needed here.
    logging.getLogger().setLevel(logging.ERROR)
    quantize_dynamic(
        # A model with external data is read by path (onnxruntime loads its weights itself).
        source if external else model,
        dest,
        use_external_data_format=external,
        op_types_to_quantize=["MatMul"],
        per_channel=True,
        weight_type=QuantType.QInt8,
        nodes_to_exclude=keep_float,
    )
    progress(f"dynamic int8: {len(keep_float)} {FLOAT_MATMUL_WEIGHT_SUFFIX} MatMuls kept float32")


def quantize_blocks(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A [K, N] weight as MatMulNBits wants it: uint8 [N, blocks, 32], scales, zero points.

    Each block of 32 input rows of one output column gets its own scale and zero point, with
    the range widened to include 0 as onnxruntime's own quantizer does.
    """
    k, n = weight.shape
    blocks = -(-k // NBITS_BLOCK)
    padded = np.zeros((blocks * NBITS_BLOCK, n), np.float32)
    padded[:k] = weight
    columns = padded.T.reshape(n, blocks, NBITS_BLOCK)
    low = np.minimum(columns.min(axis=-1), 0.0)
    high = np.maximum(columns.max(axis=-1), 0.0)
    scale = ((high - low) / 255.0).astype(np.float32)
    scale[scale == 0] = 1.0
    zero = np.clip(np.round(-low / scale), 0, 255)
    quant = np.clip(np.round(columns / scale[..., None]) + zero[..., None], 0, 255)
    return quant.astype(np.uint8), scale.reshape(-1), zero.astype(np.uint8).reshape(-1)


def quantize_matmul_nbits(model: onnx.ModelProto, source: Path, dest: Path, external: bool) -> None:
    graph = model.graph
    weights = {t.name: t for t in graph.initializer}
    nodes, replaced, added = [], set(), []
    for node in graph.node:
        b = node.input[1] if node.op_type == "MatMul" else None
        if b not in weights or len(weights[b].dims) != 2:
            nodes.append(node)
            continue
        k, n = weights[b].dims
        if b not in replaced:  # a weight two MatMuls read is quantized once
            quant, scales, zeros = quantize_blocks(numpy_helper.to_array(weights[b]))
            added += [
                numpy_helper.from_array(quant, f"{b}.q8"),
                numpy_helper.from_array(scales, f"{b}.scales"),
                numpy_helper.from_array(zeros, f"{b}.zero_points"),
            ]
        nodes.append(
            helper.make_node(
                "MatMulNBits",
                [node.input[0], f"{b}.q8", f"{b}.scales", f"{b}.zero_points"],
                list(node.output),
                name=node.name,
                domain="com.microsoft",
                K=k,
                N=n,
                bits=8,
                block_size=NBITS_BLOCK,
                accuracy_level=NBITS_ACCURACY_LEVEL,
            )
        )
        replaced.add(b)
    if not replaced:
        raise ConvertError("the model has no MatMul with a constant 2-D weight to quantize")
    # A weight that other nodes read too (the embedding table a --share-embedding model
    # gathers from) stays float32 for them.
    still_used = {name for node in nodes for name in node.input}
    kept = [t for t in graph.initializer if t.name not in replaced or t.name in still_used]
    del graph.initializer[:]
    graph.initializer.extend(kept + added)
    del graph.node[:]
    graph.node.extend(nodes)
    model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    save(model, dest, external)
    progress(f"MatMulNBits: {len(replaced)} MatMuls to 8-bit blocks of {NBITS_BLOCK}")


METHODS = {"dynamic": quantize_matmul_dynamic, "matmulnbits": quantize_matmul_nbits}


def convert(args: argparse.Namespace) -> None:
    if not args.input.is_file():
        raise ConvertError(f"--input {args.input}: no such file")
    started = time.monotonic()
    external = args.external_data
    # The dynamic quantizer reads an external model's weights itself: only its graph is needed.
    load_weights = not (external and args.method == "dynamic")
    try:
        model = onnx.load(str(args.input), load_external_data=load_weights)
    except DecodeError as err:
        raise ConvertError(f"--input {args.input}: not an ONNX model: {err}") from err
    except FileNotFoundError as err:
        raise ConvertError(f"--input {args.input}: its external data is missing: {err}") from err
    output = atomic_onnx_output(args.out) if external else atomic_output(args.out)
    with output as tmp:
        METHODS[args.method](model, args.input, tmp, external)
        data = tmp.parent / external_data_name(args.out)
        size = tmp.stat().st_size + (data.stat().st_size if external and data.exists() else 0)
    progress(f"wrote {args.out} ({size / 1e6:.1f} MB) in {time.monotonic() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(prog="quantize_int8.py", description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, required=True, help="the fp32 ONNX decoder")
    parser.add_argument("--out", type=Path, required=True, help="the quantized ONNX file to write")
    parser.add_argument("--method", choices=sorted(METHODS), default="dynamic")
    parser.add_argument("--downloads", type=Path, help="unused: the packages folder")
    parser.add_argument(
        "--external-data",
        action="store_true",
        help="read and write weights in <model>.data beside the model (models over 2 GB)",
    )
    run_cli(parser, convert)


if __name__ == "__main__":
    main()
