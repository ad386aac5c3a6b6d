"""Convert a CTranslate2 (faster-whisper) Whisper model into a whisper.cpp ggml model file.

Input: a CTranslate2 `model.bin` (binary version 6, spec `WhisperSpec`), little-endian:
    u32 version, str spec name, u32 revision, u32 variable count,
    per variable: str name, u8 rank, u32 dims[rank], u8 dtype, u32 byte count, row-major data;
    u32 alias count, per alias: str alias, str target;
where str is a u16 length (counting a trailing NUL), the UTF-8 bytes and the NUL. Names look like
`encoder/layer_0/self_attention/linear_0/weight`. Self-attention query/key/value are fused into one
linear (rows q|k|v) and cross-attention key/value into another (rows k|v); the key rows of a fused
bias are zero, as Whisper's key projections have no bias. Hyperparameters are not stored as such:
they follow from tensor shapes and the `num_heads` scalars.

Output: the ggml layout written by whisper.cpp's `models/convert-pt-to-ggml.py`, little-endian:
    i32 magic 0x67676d6c; i32 hparams n_vocab, n_audio_ctx, n_audio_state, n_audio_head,
    n_audio_layer, n_text_ctx, n_text_state, n_text_head, n_text_layer, n_mels, ftype (1 = f16);
    mel filters: i32 n_mels, i32 n_fft, f32 data (openai-whisper's mel_filters.npz);
    vocabulary: i32 count, per token i32 length + bytes (openai-whisper's tiktoken file, rank order);
    tensors in PyTorch Whisper state-dict order, each: i32 n_dims, i32 name length, i32 type
    (0 f32, 1 f16, 8 q8_0), i32 dims innermost first, name, data. 1-D tensors, conv biases (shaped
    [n, 1]) and positional embeddings are f32, everything else f16. With `--weights q8_0` the file's
    ftype is 2007 (Q8_0, quantization version 2) and every 2-D weight matrix is written in Q8_0
    blocks, as whisper.cpp's quantize tool does; the 3-D convolution kernels stay f16.

Usage (list arguments repeat, parts are concatenated in order into model.bin):
    whisper_ct2_to_ggml.py --downloads DIR --out FILE --part SPEC=MEMBER [--part SPEC=MEMBER ...]
        --config SPEC=MEMBER --mel-filters SPEC=MEMBER --tiktoken SPEC=MEMBER [--weights q8_0]
"""

from __future__ import annotations

import argparse
import base64
import binascii
import io
import json
import re
import struct
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import IO, NamedTuple

import numpy as np

from packages import PackageError, open_member, read_member

PROG = "whisper_ct2_to_ggml"
GGML_MAGIC = 0x67676D6C
CT2_VERSION = 6
CT2_DTYPES = {0: "<f4", 1: "i1", 2: "<i2", 3: "<i4", 4: "<f2"}  # 5 is bfloat16: not supported
CT2_GELU = 3
# Decoder flags a Whisper model must have, if the model states them: whisper.cpp cannot do otherwise.
CT2_DECODER_FLAGS = {"activation": CT2_GELU, "pre_norm": 1, "alibi": 0, "scale_embeddings": 0,
                     "start_from_zero_embedding": 0}
# Alignment-head metadata that whisper.cpp does not read from the model file.
CT2_IGNORED = ("decoder/alignment_heads", "decoder/alignment_layer")
F32_NAMES = {"encoder.conv1.bias", "encoder.conv2.bias", "encoder.positional_embedding",
             "decoder.positional_embedding"}
# ggml tensor types, and the file's ftype for each choice of weight type. A quantized ftype carries
# ggml's quantization version (GGML_QNT_VERSION 2, times GGML_QNT_VERSION_FACTOR 1000), as
# whisper.cpp's quantize tool writes it.
GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_Q8_0 = 0, 1, 8
FTYPES = {"f16": 1, "q8_0": 2 * 1000 + 7}
Q8_0_BLOCK = 32
MULTILINGUAL_MIN_VOCAB = 51865  # whisper.cpp's test; its vocabulary file ends just before <|endoftext|>


class ConvertError(Exception):
    """The input is not a model this converter can turn into a working ggml file."""


class Source(NamedTuple):
    """A file inside a downloaded package: `SPEC=MEMBER` on the command line."""

    spec: str
    member: str

    def __str__(self) -> str:
        return f"{self.spec} {self.member}"


def source_arg(text: str) -> Source:
    match = re.fullmatch(r"((?:pypi:[^=]+==|npm:)[^=]+)=(.+)", text)
    if match is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not SPEC=MEMBER (pypi:NAME==VERSION=PATH or npm:NAME@VERSION=PATH)")
    return Source(match[1], match[2])


def log(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


class Chain:
    """Reads several binary streams as one, and counts what it has read."""

    def __init__(self, streams: Sequence[IO[bytes]]) -> None:
        self._streams = list(streams)
        self.offset = 0

    def read(self, size: int) -> bytes:
        chunks: list[bytes] = []
        while size > 0 and self._streams:
            chunk = self._streams[0].read(size)
            if not chunk:
                self._streams.pop(0)
                continue
            chunks.append(chunk)
            size -= len(chunk)
        data = b"".join(chunks)
        self.offset += len(data)
        return data

    def exact(self, size: int, what: str) -> bytes:
        data = self.read(size)
        if len(data) != size:
            raise ConvertError(f"model.bin ends early, at byte {self.offset}, while reading {what}")
        return data

    def unpack(self, fmt: str, what: str) -> tuple[int, ...]:
        return struct.unpack(fmt, self.exact(struct.calcsize(fmt), what))

    def string(self, what: str) -> str:
        (length,) = self.unpack("<H", what)
        raw = self.exact(length, what)
        if not raw.endswith(b"\0"):
            raise ConvertError(f"model.bin: {what} at byte {self.offset} is not NUL-terminated")
        return raw[:-1].decode("utf-8")


def read_ct2(chain: Chain) -> dict[str, np.ndarray]:
    """All variables of a CTranslate2 Whisper model.bin, aliases resolved to their targets."""
    (version,) = chain.unpack("<I", "version")
    if version != CT2_VERSION:
        raise ConvertError(f"model.bin starts with version {version}, not CTranslate2 binary version "
                           f"{CT2_VERSION}: is the first --part the start of the file?")
    spec = chain.string("spec name")
    if spec != "WhisperSpec":
        raise ConvertError(f"model.bin holds a {spec!r} model, not a WhisperSpec one")
    (revision,) = chain.unpack("<I", "revision")
    (count,) = chain.unpack("<I", "variable count")
    log(f"model.bin: {spec} revision {revision}, {count} variables")
    variables: dict[str, np.ndarray] = {}
    for _ in range(count):
        name = chain.string("variable name")
        (rank,) = chain.unpack("<B", f"rank of {name}")
        shape = chain.unpack(f"<{rank}I", f"dims of {name}")
        (dtype_id,) = chain.unpack("<B", f"dtype of {name}")
        (size,) = chain.unpack("<I", f"byte count of {name}")
        if dtype_id not in CT2_DTYPES:
            raise ConvertError(f"tensor {name} has CTranslate2 dtype {dtype_id} (bfloat16 or unknown): "
                               "convert the model with float16 or float32 weights")
        dtype = np.dtype(CT2_DTYPES[dtype_id])
        if size != dtype.itemsize * int(np.prod(shape)):
            raise ConvertError(f"tensor {name}: {size} bytes do not fit shape {shape} of {dtype}")
        variables[name] = np.frombuffer(chain.exact(size, f"data of {name}"), dtype).reshape(shape)
    (alias_count,) = chain.unpack("<I", "alias count")
    for _ in range(alias_count):
        alias = chain.string("alias name")
        target = chain.string(f"target of alias {alias}")
        if target not in variables:
            raise ConvertError(f"model.bin: alias {alias} points to missing tensor {target}")
        variables[alias] = variables[target]
    if chain.read(1):
        raise ConvertError(f"model.bin has unexpected data after byte {chain.offset - 1}")
    return variables


class Hparams(NamedTuple):
    n_vocab: int
    n_audio_ctx: int
    n_audio_state: int
    n_audio_head: int
    n_audio_layer: int
    n_text_ctx: int
    n_text_state: int
    n_text_head: int
    n_text_layer: int
    n_mels: int


class Variables:
    """CTranslate2 variables, each taken once and checked against its expected shape."""

    def __init__(self, variables: dict[str, np.ndarray]) -> None:
        self._left = dict(variables)

    def has(self, name: str) -> bool:
        return name in self._left

    def peek_shape(self, name: str) -> tuple[int, ...]:
        if name not in self._left:
            raise ConvertError(f"model.bin has no tensor {name}")
        return self._left[name].shape

    def take(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        array = self._left.pop(name, None)
        if array is None:
            raise ConvertError(f"model.bin has no tensor {name}")
        if array.shape != shape:
            raise ConvertError(f"tensor {name} has shape {array.shape}, expected {shape}")
        if array.dtype.kind != "f":
            raise ConvertError(f"tensor {name} is {array.dtype}, not floating point (quantized model?)")
        return array

    def scalar(self, name: str) -> int | None:
        array = self._left.pop(name, None)
        if array is None:
            return None
        if array.shape != () or array.dtype.kind != "i":
            raise ConvertError(f"{name} should be an integer scalar, is {array.dtype} {array.shape}")
        return int(array)

    def drop(self, name: str) -> None:
        self._left.pop(name, None)

    def check_all_taken(self) -> None:
        if self._left:
            names = ", ".join(sorted(self._left)[:5])
            raise ConvertError(f"model.bin has {len(self._left)} unexpected tensors: {names}")


def count_layers(variables: Variables, stack: str) -> int:
    count = 0
    while variables.has(f"{stack}/layer_{count}/self_attention/linear_0/weight"):
        count += 1
    if count == 0:
        raise ConvertError(f"model.bin has no {stack} layers")
    return count


def heads(variables: Variables, stack: str, n_state: int) -> int:
    n_head = variables.scalar(f"{stack}/num_heads")
    if n_head is None or n_head <= 0 or n_state % n_head:
        raise ConvertError(f"{stack}/num_heads is {n_head}, which does not divide the width {n_state}")
    return n_head


def read_hparams(variables: Variables) -> Hparams:
    n_audio_state, n_mels, kernel = variables.peek_shape("encoder/conv1/weight")
    n_vocab, n_text_state = variables.peek_shape("decoder/embeddings/weight")
    n_audio_ctx = variables.peek_shape("encoder/position_encodings/encodings")[0]
    n_text_ctx = variables.peek_shape("decoder/position_encodings/encodings")[0]
    if kernel != 3:
        raise ConvertError(f"tensor encoder/conv1/weight has kernel size {kernel}, expected 3")
    for flag, want in CT2_DECODER_FLAGS.items():
        value = variables.scalar(f"decoder/{flag}")
        if value is not None and value != want:
            raise ConvertError(f"decoder/{flag} is {value}: whisper.cpp needs {want}")
    return Hparams(
        n_vocab=n_vocab, n_audio_ctx=n_audio_ctx, n_audio_state=n_audio_state,
        n_audio_head=heads(variables, "encoder", n_audio_state),
        n_audio_layer=count_layers(variables, "encoder"),
        n_text_ctx=n_text_ctx, n_text_state=n_text_state,
        n_text_head=heads(variables, "decoder", n_text_state),
        n_text_layer=count_layers(variables, "decoder"), n_mels=n_mels)


def linear(variables: Variables, ct2: str, ggml: str, n_out: int, n_in: int,
           ) -> Iterator[tuple[str, np.ndarray]]:
    yield f"{ggml}.weight", variables.take(f"{ct2}/weight", (n_out, n_in))
    yield f"{ggml}.bias", variables.take(f"{ct2}/bias", (n_out,))


def layer_norm(variables: Variables, ct2: str, ggml: str, n: int) -> Iterator[tuple[str, np.ndarray]]:
    yield f"{ggml}.weight", variables.take(f"{ct2}/gamma", (n,))
    yield f"{ggml}.bias", variables.take(f"{ct2}/beta", (n,))


def fused(variables: Variables, ct2: str, ggml: str, parts: Sequence[str], n: int, n_in: int,
          ) -> Iterator[tuple[str, np.ndarray]]:
    """Split a fused CTranslate2 linear into Whisper's projections; `key` gets no bias."""
    weight = variables.take(f"{ct2}/weight", (len(parts) * n, n_in))
    bias = variables.take(f"{ct2}/bias", (len(parts) * n,))
    for index, part in enumerate(parts):
        rows = slice(index * n, (index + 1) * n)
        yield f"{ggml}.{part}.weight", weight[rows]
        if part != "key":
            yield f"{ggml}.{part}.bias", bias[rows]
        elif np.any(bias[rows]):
            raise ConvertError(f"tensor {ct2}/bias has a non-zero key part: not a Whisper model")


def block(variables: Variables, ct2: str, ggml: str, n: int, cross_n_in: int | None,
          ) -> Iterator[tuple[str, np.ndarray]]:
    """One residual attention block, in the order of Whisper's ResidualAttentionBlock."""
    yield from fused(variables, f"{ct2}/self_attention/linear_0", f"{ggml}.attn",
                     ("query", "key", "value"), n, n)
    yield from linear(variables, f"{ct2}/self_attention/linear_1", f"{ggml}.attn.out", n, n)
    yield from layer_norm(variables, f"{ct2}/self_attention/layer_norm", f"{ggml}.attn_ln", n)
    if cross_n_in is not None:
        yield from linear(variables, f"{ct2}/attention/linear_0", f"{ggml}.cross_attn.query", n, n)
        yield from fused(variables, f"{ct2}/attention/linear_1", f"{ggml}.cross_attn",
                         ("key", "value"), n, cross_n_in)
        yield from linear(variables, f"{ct2}/attention/linear_2", f"{ggml}.cross_attn.out", n, n)
        yield from layer_norm(variables, f"{ct2}/attention/layer_norm", f"{ggml}.cross_attn_ln", n)
    yield from linear(variables, f"{ct2}/ffn/linear_0", f"{ggml}.mlp.0", 4 * n, n)
    yield from linear(variables, f"{ct2}/ffn/linear_1", f"{ggml}.mlp.2", n, 4 * n)
    yield from layer_norm(variables, f"{ct2}/ffn/layer_norm", f"{ggml}.mlp_ln", n)


def whisper_tensors(variables: Variables, hp: Hparams) -> Iterator[tuple[str, np.ndarray]]:
    """The model's tensors under their PyTorch Whisper names, in state-dict order."""
    na, nt = hp.n_audio_state, hp.n_text_state
    yield "encoder.positional_embedding", variables.take(
        "encoder/position_encodings/encodings", (hp.n_audio_ctx, na))
    yield "encoder.conv1.weight", variables.take("encoder/conv1/weight", (na, hp.n_mels, 3))
    yield "encoder.conv1.bias", variables.take("encoder/conv1/bias", (na,)).reshape(na, 1)
    yield "encoder.conv2.weight", variables.take("encoder/conv2/weight", (na, na, 3))
    yield "encoder.conv2.bias", variables.take("encoder/conv2/bias", (na,)).reshape(na, 1)
    for i in range(hp.n_audio_layer):
        yield from block(variables, f"encoder/layer_{i}", f"encoder.blocks.{i}", na, None)
    yield from layer_norm(variables, "encoder/layer_norm", "encoder.ln_post", na)
    yield "decoder.positional_embedding", variables.take(
        "decoder/position_encodings/encodings", (hp.n_text_ctx, nt))
    embedding = variables.take("decoder/embeddings/weight", (hp.n_vocab, nt))
    projection = variables.take("decoder/projection/weight", (hp.n_vocab, nt))
    if projection is not embedding and not np.array_equal(projection, embedding):
        raise ConvertError("tensor decoder/projection/weight differs from decoder/embeddings/weight: "
                           "whisper.cpp ties them")
    yield "decoder.token_embedding.weight", embedding
    for i in range(hp.n_text_layer):
        yield from block(variables, f"decoder/layer_{i}", f"decoder.blocks.{i}", nt, na)
    yield from layer_norm(variables, "decoder/layer_norm", "decoder.ln", nt)


def read_mel_filters(downloads: Path, source: Source, n_mels: int) -> np.ndarray:
    try:
        with np.load(io.BytesIO(read_member(downloads, source.spec, source.member))) as npz:
            key = f"mel_{n_mels}"
            if key not in npz.files:
                raise ConvertError(f"{source} has no {key} filters (has {', '.join(npz.files)})")
            filters = np.asarray(npz[key], dtype="<f4")
    except (ValueError, OSError) as err:
        raise ConvertError(f"{source} is not a readable .npz file: {err}") from err
    if filters.ndim != 2 or filters.shape[0] != n_mels:
        raise ConvertError(f"{source}: {key} has shape {filters.shape}, expected ({n_mels}, n_fft)")
    return filters


def read_tiktoken(downloads: Path, source: Source) -> list[bytes]:
    """The tokens of a tiktoken BPE file (`base64 rank` lines), checked to be in rank order.

    Decoding is lenient like convert-pt-to-ggml.py's: multilingual.tiktoken's last line is `=`, an
    empty token.
    """
    tokens: list[bytes] = []
    for line in read_member(downloads, source.spec, source.member).splitlines():
        if not line:
            continue
        fields = line.split()
        try:
            token, rank = base64.b64decode(fields[0]), int(fields[1])
        except (IndexError, ValueError, binascii.Error):
            raise ConvertError(f"{source}: line {len(tokens) + 1} is not 'base64 rank'") from None
        if len(fields) != 2 or rank != len(tokens):
            raise ConvertError(f"{source}: line {len(tokens) + 1} has rank {rank}, expected {len(tokens)}")
        tokens.append(token)
    return tokens


def check_vocabulary(tokens: list[bytes], config: dict[str, object], hp: Hparams,
                     tiktoken: Source, config_source: Source) -> None:
    """whisper.cpp numbers the file's tokens from 0 and puts <|endoftext|> right after them."""
    multilingual = hp.n_vocab >= MULTILINGUAL_MIN_VOCAB
    eot = 50257 if multilingual else 50256
    if len(tokens) != eot:
        want = "multilingual.tiktoken" if multilingual else "gpt2.tiktoken"
        raise ConvertError(f"{tiktoken} has {len(tokens)} tokens, but this model "
                           f"(n_vocab {hp.n_vocab}) needs {eot}: pass {want}")
    begin = config.get("suppress_ids_begin")
    if not isinstance(begin, list) or not begin or begin[-1] != eot:
        raise ConvertError(f"{config_source}: suppress_ids_begin is {begin!r}, expected to end with "
                           f"<|endoftext|> = {eot}")


def quantize_q8_0(array: np.ndarray) -> bytes:
    """ggml's Q8_0 blocks of a 2-D tensor, row by row: per 32 values an f16 scale d = max|x| / 127
    and 32 int8 values round(x / d), rounded half away from zero like ggml's reference code."""
    rows, cols = array.shape
    if cols % Q8_0_BLOCK:
        raise ConvertError(f"a row of {cols} values does not split into Q8_0 blocks of {Q8_0_BLOCK}")
    blocks = np.asarray(array, dtype=np.float32).reshape(-1, Q8_0_BLOCK)
    scale = np.abs(blocks).max(axis=1) / 127.0
    inverse = np.divide(1.0, scale, out=np.zeros_like(scale), where=scale != 0)
    scaled = blocks * inverse[:, None]
    quants = (np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)).astype(np.int8)
    packed = np.empty(len(blocks), dtype=[("d", "<f2"), ("qs", "i1", Q8_0_BLOCK)])
    packed["d"] = scale.astype("<f2")
    packed["qs"] = quants
    return packed.tobytes()


def write_ggml(out: IO[bytes], hp: Hparams, filters: np.ndarray, tokens: list[bytes],
               tensors: list[tuple[str, np.ndarray]], weights: str = "f16") -> None:
    """`weights`: the type of the weight matrices, "f16" or "q8_0" (whisper.cpp's ftype decides
    which tensors it expects quantized: every matrix except the convolutions, which stay f16)."""
    ftype = FTYPES[weights]
    out.write(struct.pack("<12i", GGML_MAGIC, *hp, ftype))
    out.write(struct.pack("<2i", *filters.shape))
    out.write(filters.tobytes())
    out.write(struct.pack("<i", len(tokens)))
    for token in tokens:
        out.write(struct.pack("<i", len(token)))
        out.write(token)
    for name, array in tensors:
        f32 = array.ndim < 2 or name in F32_NAMES
        quantized = weights == "q8_0" and array.ndim == 2 and not f32
        if quantized:
            ggml_type, payload = GGML_TYPE_Q8_0, quantize_q8_0(array)
        elif f32:
            ggml_type, payload = GGML_TYPE_F32, np.ascontiguousarray(array, dtype="<f4").tobytes()
        else:
            ggml_type, payload = GGML_TYPE_F16, np.ascontiguousarray(array, dtype="<f2").tobytes()
        encoded = name.encode("utf-8")
        out.write(struct.pack(f"<{3 + array.ndim}i", array.ndim, len(encoded), ggml_type,
                              *reversed(array.shape)))
        out.write(encoded)
        out.write(payload)


def convert(args: argparse.Namespace) -> None:
    started = time.monotonic()
    downloads: Path = args.downloads
    log(f"reading model.bin from {len(args.part)} part(s): {', '.join(map(str, args.part))}")
    with ExitStack() as stack:
        streams = [stack.enter_context(open_member(downloads, p.spec, p.member)) for p in args.part]
        chain = Chain(streams)
        variables = Variables(read_ct2(chain))
    log(f"model.bin: {chain.offset} bytes read")
    for name in CT2_IGNORED:
        variables.drop(name)
    hp = read_hparams(variables)
    log("hparams: " + ", ".join(f"{k}={v}" for k, v in hp._asdict().items()))
    tensors = list(whisper_tensors(variables, hp))
    variables.check_all_taken()

    try:
        config = json.loads(read_member(downloads, args.config.spec, args.config.member))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ConvertError(f"{args.config} is not valid JSON: {err}") from err
    if not isinstance(config, dict):
        raise ConvertError(f"{args.config} is not a JSON object")
    filters = read_mel_filters(downloads, args.mel_filters, hp.n_mels)
    tokens = read_tiktoken(downloads, args.tiktoken)
    check_vocabulary(tokens, config, hp, args.tiktoken, args.config)

    log(f"writing {len(tensors)} tensors, {len(tokens)} tokens to {args.out}")
    with open(args.out, "wb") as out:
        write_ggml(out, hp, filters, tokens, tensors, args.weights)
        size = out.tell()
    log(f"done: {size} bytes in {time.monotonic() - started:.1f} s")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--downloads", type=Path, required=True, help="folder of downloaded packages")
    parser.add_argument("--out", type=Path, required=True, help="ggml file to write")
    parser.add_argument("--part", type=source_arg, action="append", required=True,
                        help="a piece of CTranslate2 model.bin (repeat, in order)")
    parser.add_argument("--config", type=source_arg, required=True, help="CTranslate2 config.json")
    parser.add_argument("--mel-filters", type=source_arg, required=True,
                        help="openai-whisper whisper/assets/mel_filters.npz")
    parser.add_argument("--tiktoken", type=source_arg, required=True,
                        help="openai-whisper multilingual.tiktoken or gpt2.tiktoken")
    parser.add_argument("--weights", choices=sorted(FTYPES), default="f16",
                        help="type of the weight matrices: f16, or q8_0 (8-bit blocks, half the size)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        convert(args)
    except BaseException as err:
        with suppress(OSError):
            args.out.unlink(missing_ok=True)
        if isinstance(err, (ConvertError, PackageError, OSError)):
            log(f"error: {err}")
            return 1
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
