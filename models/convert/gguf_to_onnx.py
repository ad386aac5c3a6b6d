"""Convert a GGUF chat model (llama or qwen2 architecture) into an fp32 ONNX decoder with KV cache.

Usage:
    gguf_to_onnx.py --downloads DIR --gguf SPEC=MEMBER --out model.onnx

The graph follows the layout Hugging Face optimum gives decoder exports, so any onnxruntime
(opset 17, standard ops only) and any optimum-style generation loop can drive it:

  inputs   input_ids              int64 [batch, seq]
           attention_mask         int64 [batch, past + seq]   1 = attend, 0 = padding
           position_ids           int64 [batch, seq]
           past_key_values.{i}.key / .value   float32 [batch, kv_heads, past, head_dim]
  outputs  logits                 float32 [batch, seq, vocab]
           present.{i}.key / .value           float32 [batch, kv_heads, past + seq, head_dim]

The first step passes past tensors with past = 0. Query j of the step attends to key t when
t <= past + j (causal) and attention_mask[b, t] is 1. Keys are cached after rotary embedding, in
Hugging Face's head layout: llama.cpp's q/k row permutation is undone, and rotary uses the
rotate-half form. Weights are dequantized from the GGUF to float32; a tied output projection
is stored as its own transposed copy so that dynamic quantization treats it as a plain MatMul;
with --share-embedding that one [hidden, vocab] copy is also the embedding table (Gather along
axis 1), which keeps Qwen2.5-Coder-0.5B (151,936 tokens) under the protobuf limit.
The file is a single protobuf, which bounds models to about 2 GB of weights, unless
--external-data is given: then every weight of 1 KB or more goes, as it is made, into
`<out>.data` beside the model (offsets aligned to 4 KB, so onnxruntime can map them), which
is how larger models (Qwen2.5-Coder-1.5B, 6.2 GB in float32) are written with one tensor in
memory at a time. Load such a model by its path; the data file must stay beside it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import BinaryIO

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from gguf_common import (
    ConvertError,
    GgufModel,
    Hyper,
    add_gguf_args,
    atomic_onnx_output,
    atomic_output,
    external_data_name,
    open_gguf,
    progress,
    run_cli,
    unpermute_rows,
)

OPSET = 17
IR_VERSION = 8  # the IR of opset 17: loads in onnxruntime 1.13 and later
MAX_PROTOBUF_BYTES = 2**31 - 1
# The mean |output - embedding| / mean |output| below which two stored copies are one matrix
# (Qwen2.5-Coder-0.5B: 4.6%, Q5_0 against Q8_0; unrelated matrices are near 140%).
SHARED_TABLE_MAX_NOISE = 0.15
# With --external-data: weights of at least this many bytes go to the data file, each at an
# offset aligned to the page size.
EXTERNAL_MIN_BYTES = 1024
EXTERNAL_ALIGN = 4096
BATCH, SEQ, PAST, TOTAL = "batch_size", "sequence_length", "past_sequence_length", "total_sequence_length"


class ExternalWeights:
    """Writes weights into an ONNX external data file as they are made."""

    def __init__(self, sink: BinaryIO, location: str) -> None:
        self.sink = sink
        self.location = location
        self.offset = 0

    def tensor(self, name: str, array: np.ndarray) -> TensorProto:
        pad = -self.offset % EXTERNAL_ALIGN
        self.sink.write(b"\0" * pad)
        self.offset += pad
        data = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"), copy=False)
        self.sink.write(memoryview(data).cast("B"))
        tensor = TensorProto(name=name, dims=list(array.shape))
        tensor.data_type = helper.np_dtype_to_tensor_dtype(array.dtype)
        tensor.data_location = TensorProto.EXTERNAL
        for key, value in (("location", self.location), ("offset", self.offset), ("length", data.nbytes)):
            entry = tensor.external_data.add()
            entry.key, entry.value = key, str(value)
        self.offset += data.nbytes
        return tensor


class Graph:
    """Collects nodes and initializers; outputs get readable, deterministic names."""

    def __init__(self, external: ExternalWeights | None = None) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[TensorProto] = []
        self.scope = "model"
        self.external = external
        self._count = 0
        self._consts: dict[tuple[str, tuple[int, ...], bytes], str] = {}

    def weight(self, name: str, array: np.ndarray) -> str:
        if self.external is not None and array.nbytes >= EXTERNAL_MIN_BYTES:
            self.initializers.append(self.external.tensor(name, array))
        else:
            self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def const(self, values: list[int] | list[float] | float, dtype: type = np.int64) -> str:
        """A small constant, shared by every node that needs the same value."""
        array = np.array(values, dtype=dtype)
        key = (array.dtype.str, array.shape, array.tobytes())
        if key not in self._consts:
            self._consts[key] = self.weight(f"const.{len(self._consts)}", array)
        return self._consts[key]

    def op(self, op_type: str, *inputs: str, out: str | None = None, n_out: int = 1, **attrs: object):
        """Append a node; returns its output name (a list of names when n_out > 1)."""
        self._count += 1
        base = f"/{self.scope}/{op_type}_{self._count}"
        outputs = [out] if out else [f"{base}_out{k}" for k in range(n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outputs, name=base, **attrs))
        return outputs[0] if n_out == 1 else outputs


class DecoderBuilder:
    """Builds the decoder graph from a GGUF model; per-architecture differences live in Hyper."""

    def __init__(
        self,
        model: GgufModel,
        hp: Hyper,
        share_embedding: bool = False,
        external: ExternalWeights | None = None,
    ) -> None:
        self.model = model
        self.hp = hp
        self.share_embedding = share_embedding
        self.g = Graph(external)

    def linear(self, x: str, prefix: str, rope_heads: int = 0) -> str:
        """x @ W.T (+ b) for GGUF tensor `prefix`.weight/.bias; q/k rows restored to HF order."""
        weight = self.model.tensor(f"{prefix}.weight")
        if rope_heads and self.hp.rope_style == "norm":
            weight = unpermute_rows(weight, rope_heads)
        y = self.g.op("MatMul", x, self.g.weight(f"{prefix}.weight", weight.T))
        if self.model.has_tensor(f"{prefix}.bias"):
            bias = self.model.tensor(f"{prefix}.bias")
            if rope_heads and self.hp.rope_style == "norm":
                bias = unpermute_rows(bias, rope_heads)
            y = self.g.op("Add", y, self.g.weight(f"{prefix}.bias", bias))
        return y

    def rms_norm(self, x: str, weight_name: str) -> str:
        """x / sqrt(mean(x^2) + eps) * w, in the shape onnxruntime fuses into one kernel."""
        g = self.g
        mean_sq = g.op("ReduceMean", g.op("Pow", x, g.const(2.0, np.float32)), axes=[-1], keepdims=1)
        denom = g.op("Sqrt", g.op("Add", mean_sq, g.const(self.hp.rms_eps, np.float32)))
        normed = g.op("Div", x, denom)
        return g.op("Mul", normed, g.weight(weight_name, self.model.tensor(weight_name)))

    def rotary_tables(self) -> tuple[str, str]:
        """cos and signed sin, [batch, 1, seq, head_dim], from position_ids (rotate-half form)."""
        g, hp = self.g, self.hp
        inv_freq = 1.0 / hp.rope_theta ** (np.arange(0, hp.head_dim, 2, dtype=np.float64) / hp.head_dim)
        positions = g.op("Unsqueeze", g.op("Cast", "position_ids", to=TensorProto.FLOAT), g.const([2]))
        angles = g.op("Mul", positions, g.const(inv_freq.tolist(), np.float32))
        cos_half, sin_half = g.op("Cos", angles), g.op("Sin", angles)
        cos = g.op("Concat", cos_half, cos_half, axis=-1)
        sin = g.op("Concat", g.op("Neg", sin_half), sin_half, axis=-1)
        return g.op("Unsqueeze", cos, g.const([1])), g.op("Unsqueeze", sin, g.const([1]))

    def rotate(self, x: str, cos: str, sin_signed: str) -> str:
        """x * cos + rotate_half(x) * sin, where rotate_half(x) = [-x2, x1]."""
        g = self.g
        half = self.hp.head_dim // 2
        x1, x2 = g.op("Split", x, g.const([half, half]), axis=-1, n_out=2)
        swapped = g.op("Concat", x2, x1, axis=-1)
        return g.op("Add", g.op("Mul", x, cos), g.op("Mul", swapped, sin_signed))

    def attention_bias(self) -> str:
        """Additive mask [batch, 1, n_rep*seq, total]: 0 where allowed, float32 min elsewhere.

        Rows are laid out like the grouped queries: query head r of a KV group, position j, is
        row r*seq + j, hence the Tile over the group's query heads.
        """
        g, hp = self.g, self.hp
        past = g.op("Shape", "past_key_values.0.key", start=2, end=3)
        seq = g.op("Shape", "input_ids", start=1, end=2)
        total = g.op("Shape", "attention_mask", start=1, end=2)
        zero, one = g.const(0), g.const(1)
        query_pos = g.op("Range", g.op("Squeeze", past), g.op("Squeeze", g.op("Add", past, seq)), one)
        key_pos = g.op("Range", zero, g.op("Squeeze", total), one)
        causal = g.op(
            "LessOrEqual",
            g.op("Unsqueeze", key_pos, g.const([0])),
            g.op("Unsqueeze", query_pos, g.const([1])),
        )
        keep = g.op("Unsqueeze", g.op("Cast", "attention_mask", to=TensorProto.BOOL), g.const([1, 2]))
        allowed = g.op("And", causal, keep)
        n_rep = hp.n_heads // hp.n_kv_heads
        if n_rep > 1:
            allowed = g.op("Tile", allowed, g.const([1, 1, n_rep, 1]))
        lowest = float(np.finfo(np.float32).min)
        return g.op("Where", allowed, g.const(0.0, np.float32), g.const(lowest, np.float32))

    def heads(self, x: str, n_heads: int) -> str:
        """[batch, seq, n_heads*head_dim] -> [batch, n_heads, seq, head_dim]."""
        g = self.g
        split = g.op("Reshape", x, g.const([0, 0, n_heads, self.hp.head_dim]))
        return g.op("Transpose", split, perm=[0, 2, 1, 3])

    def layer(self, i: int, x: str, cos: str, sin: str, bias: str) -> str:
        g, hp = self.g, self.hp
        g.scope = f"layers.{i}"
        blk = f"blk.{i}"
        h = self.rms_norm(x, f"{blk}.attn_norm.weight")
        q = self.heads(self.linear(h, f"{blk}.attn_q", hp.n_heads), hp.n_heads)
        k = self.heads(self.linear(h, f"{blk}.attn_k", hp.n_kv_heads), hp.n_kv_heads)
        v = self.heads(self.linear(h, f"{blk}.attn_v"), hp.n_kv_heads)
        q = g.op("Mul", self.rotate(q, cos, sin), g.const(1.0 / np.sqrt(hp.head_dim), np.float32))
        k = self.rotate(k, cos, sin)
        key = g.op("Concat", f"past_key_values.{i}.key", k, axis=2, out=f"present.{i}.key")
        value = g.op("Concat", f"past_key_values.{i}.value", v, axis=2, out=f"present.{i}.value")
        # Grouped-query attention: the query heads of one KV group become extra rows.
        grouped = g.op("Reshape", q, g.const([0, hp.n_kv_heads, -1, hp.head_dim]))
        scores = g.op("MatMul", grouped, g.op("Transpose", key, perm=[0, 1, 3, 2]))
        probs = g.op("Softmax", g.op("Add", scores, bias), axis=-1)
        context = g.op("Reshape", g.op("MatMul", probs, value), g.const([0, hp.n_heads, -1, hp.head_dim]))
        merged = g.op(
            "Reshape",
            g.op("Transpose", context, perm=[0, 2, 1, 3]),
            g.const([0, 0, hp.n_heads * hp.head_dim]),
        )
        x = g.op("Add", x, self.linear(merged, f"{blk}.attn_output"))
        h = self.rms_norm(x, f"{blk}.ffn_norm.weight")
        gate = self.linear(h, f"{blk}.ffn_gate")
        swish = g.op("Mul", gate, g.op("Sigmoid", gate))
        up = self.linear(h, f"{blk}.ffn_up")
        return g.op("Add", x, self.linear(g.op("Mul", swish, up), f"{blk}.ffn_down"))

    def shared_table(self, embedding: np.ndarray) -> np.ndarray:
        """The one matrix a --share-embedding model uses both ways.

        A tied model has only the embedding. Qwen2.5's small models are tied upstream, but
        llama.cpp stores the matrix twice in different quantizations (Qwen2.5-Coder-0.5B Q4_K_M:
        token_embd Q5_0, output Q8_0); the finer output copy is kept once both are confirmed
        to be one matrix (the difference must be quantization noise, not another weight).
        """
        if self.hp.tied_embeddings:
            return embedding
        output = self.model.tensor("output.weight")
        if output.shape != embedding.shape:
            raise ConvertError(f"--share-embedding: output.weight is {output.shape}, the embedding {embedding.shape}")
        noise = float(np.abs(output - embedding).mean() / np.abs(output).mean())
        if not noise <= SHARED_TABLE_MAX_NOISE:  # NaN (an all-zero copy) is refused too
            raise ConvertError(
                f"--share-embedding: output.weight differs from token_embd.weight by {noise:.0%} "
                "of its mean magnitude: the model is not tied"
            )
        progress(f"embedding and output projection are one matrix ({noise:.1%} quantization noise)")
        return output

    def build(self, source: str) -> onnx.ModelProto:
        g, hp = self.g, self.hp
        g.scope = "embed"
        embedding = self.model.tensor("token_embd.weight")
        shared = self.share_embedding
        if shared:
            # One [hidden, vocab] table serves the embedding (rows gathered along axis 1) and the
            # output projection, so a large vocabulary is stored once.
            table = g.weight("output.weight", self.shared_table(embedding).T)
            x = g.op("Transpose", g.op("Gather", table, "input_ids", axis=1), perm=[1, 2, 0])
        else:
            x = g.op("Gather", g.weight("token_embd.weight", embedding), "input_ids", axis=0)
        cos, sin = self.rotary_tables()
        g.scope = "mask"
        bias = self.attention_bias()
        started = time.monotonic()
        for i in range(hp.n_layers):
            x = self.layer(i, x, cos, sin, bias)
            progress(f"layer {i + 1}/{hp.n_layers} ({time.monotonic() - started:.1f} s)")
        g.scope = "head"
        x = self.rms_norm(x, "output_norm.weight")
        if shared:
            g.op("MatMul", x, "output.weight", out="logits")
        else:
            head = embedding if hp.tied_embeddings else self.model.tensor("output.weight")
            g.op("MatMul", x, g.weight("output.weight", head.T), out="logits")

        def tensor(name: str, dtype: int, dims: list[str | int]) -> onnx.ValueInfoProto:
            return helper.make_tensor_value_info(name, dtype, dims)

        cache_in = [BATCH, hp.n_kv_heads, PAST, hp.head_dim]
        cache_out = [BATCH, hp.n_kv_heads, TOTAL, hp.head_dim]
        inputs = [
            tensor("input_ids", TensorProto.INT64, [BATCH, SEQ]),
            tensor("attention_mask", TensorProto.INT64, [BATCH, TOTAL]),
            tensor("position_ids", TensorProto.INT64, [BATCH, SEQ]),
        ]
        outputs = [tensor("logits", TensorProto.FLOAT, [BATCH, SEQ, hp.vocab_size])]
        for i in range(hp.n_layers):
            for kind in ("key", "value"):
                inputs.append(tensor(f"past_key_values.{i}.{kind}", TensorProto.FLOAT, cache_in))
                outputs.append(tensor(f"present.{i}.{kind}", TensorProto.FLOAT, cache_out))
        graph = helper.make_graph(g.nodes, f"{hp.arch}_decoder", inputs, outputs, g.initializers)
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name="hotline gguf_to_onnx.py",
            ir_version=IR_VERSION,
        )
        helper.set_model_props(model, {"source": source, "architecture": hp.arch})
        return model


def convert(args: argparse.Namespace) -> None:
    if args.external_data:
        convert_external(args)
        return
    started = time.monotonic()
    with open_gguf(args.downloads, args.gguf) as model:
        hp = model.hyper()
        types = ", ".join(f"{count} {kind}" for kind, count in model.quant_types().items())
        progress(
            f"{hp.arch}: {hp.n_layers} layers, hidden {hp.hidden}, heads {hp.n_heads}/{hp.n_kv_heads}, "
            f"tensors {types}, dequantized to float32"
        )
        onnx_model = DecoderBuilder(model, hp, args.share_embedding).build(model.label)
        label = model.label
    size = onnx_model.ByteSize()
    if size > MAX_PROTOBUF_BYTES:
        raise ConvertError(f"{label}: {size} bytes of ONNX is over the 2 GB protobuf limit")
    onnx.checker.check_model(onnx_model)
    data = onnx_model.SerializeToString()
    out: Path = args.out
    with atomic_output(out) as tmp:
        tmp.write_bytes(data)
    progress(f"wrote {out} ({len(data) / 1e6:.1f} MB) in {time.monotonic() - started:.1f} s")


def convert_external(args: argparse.Namespace) -> None:
    """The model with its weights in `<out>.data`, written tensor by tensor."""
    started = time.monotonic()
    out: Path = args.out
    with atomic_onnx_output(out) as tmp:
        with open_gguf(args.downloads, args.gguf) as model, open(tmp.parent / external_data_name(out), "wb") as sink:
            hp = model.hyper()
            progress(f"{hp.arch}: {hp.n_layers} layers, hidden {hp.hidden}, weights to {external_data_name(out)}")
            weights = ExternalWeights(sink, external_data_name(out))
            onnx_model = DecoderBuilder(model, hp, args.share_embedding, weights).build(model.label)
        tmp.write_bytes(onnx_model.SerializeToString())
        onnx.checker.check_model(str(tmp))  # by path: the checker reads the data file too
        total = weights.offset + tmp.stat().st_size
    progress(f"wrote {out} and its data ({total / 1e6:.1f} MB) in {time.monotonic() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(prog="gguf_to_onnx.py", description=__doc__.splitlines()[0])
    add_gguf_args(parser)
    parser.add_argument("--out", type=Path, required=True, help="the ONNX file to write")
    parser.add_argument(
        "--share-embedding",
        action="store_true",
        help="store the embedding once, as the output projection, for tied models (large vocabularies)",
    )
    parser.add_argument(
        "--external-data",
        action="store_true",
        help="write the weights to <out>.data beside the model (models over 2 GB)",
    )
    run_cli(parser, convert)


if __name__ == "__main__":
    main()
