"""Token ids for a text, computed without tokenizer.json: tiktoken over a GGUF's own vocabulary.

Usage:
    bpe_reference.py --gguf PATH --text TEXT [--text TEXT ...]     prints a JSON list of id lists

The test of a converted tokenizer (tests/llm_conversion.rs) compares hotline's encoding, which runs
the `tokenizers` crate on the tokenizer.json that gguf_tokenizer.py wrote, with this one:
another BPE implementation (tiktoken's, which merges by token rank instead of by merge list),
fed from the GGUF directly: every normal token, turned back from GPT-2's byte-to-unicode
alphabet into bytes, is ranked by its id; control and user-defined tokens (stored as raw text,
matched whole, as gguf_tokenizer.py's added tokens are) are tiktoken's special tokens. The split
pattern is Qwen2's published pre-tokenizer regex (one digit per token), after NFC normalization
as Qwen2's tokenizer does. Only Qwen2-family vocabularies are supported ("tokenizer.ggml.pre"
= qwen2): for them id order is merge order, so rank-based and merge-based BPE must agree.
"""

from __future__ import annotations

import argparse
import json
import unicodedata
from pathlib import Path

import tiktoken

from gguf_common import ConvertError, fail, read_gguf

TOKEN_CONTROL = 3
TOKEN_USER_DEFINED = 4
QWEN2_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def byte_decoder() -> dict[str, int]:
    """GPT-2's printable stand-in character for each byte, reversed."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[chr(b)] = b
        else:
            chars[chr(256 + extra)] = b
            extra += 1
    return chars


def encoding(path: Path) -> tiktoken.Encoding:
    model = read_gguf(path, path.name)
    pre = model.meta("tokenizer.ggml.pre", None)
    if pre != "qwen2":
        raise ConvertError(f"{path.name}: tokenizer.ggml.pre is {pre!r}; only qwen2 is supported")
    tokens: list[str] = model.meta("tokenizer.ggml.tokens")
    types: list[int] = model.meta("tokenizer.ggml.token_type")
    decode = byte_decoder()
    ranks: dict[bytes, int] = {}
    specials: dict[str, int] = {}
    for token_id, (token, kind) in enumerate(zip(tokens, types)):
        if kind in (TOKEN_CONTROL, TOKEN_USER_DEFINED):
            specials[token] = token_id
            continue
        try:
            ranks[bytes(decode[c] for c in token)] = token_id
        except KeyError as err:
            raise ConvertError(f"{path.name}: token {token_id} {token!r} is not byte-level BPE: {err}") from None
    return tiktoken.Encoding(path.name, pat_str=QWEN2_PATTERN, mergeable_ranks=ranks, special_tokens=specials)


def main() -> None:
    parser = argparse.ArgumentParser(prog="bpe_reference.py", description=__doc__.splitlines()[0])
    parser.add_argument("--gguf", type=Path, required=True, help="the GGUF file")
    parser.add_argument("--text", action="append", required=True, help="a text to encode")
    args = parser.parse_args()
    if not args.gguf.is_file():
        fail(parser.prog, f"--gguf {args.gguf}: no such file")
    try:
        enc = encoding(args.gguf)
    except ConvertError as err:
        fail(parser.prog, str(err))
    ids = [enc.encode(unicodedata.normalize("NFC", text), allowed_special="all") for text in args.text]
    print(json.dumps(ids))


if __name__ == "__main__":
    main()
