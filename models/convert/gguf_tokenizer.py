"""Write a Hugging Face `tokenizer.json` for the byte-level BPE vocabulary inside a GGUF file.

Usage:
    gguf_tokenizer.py --downloads DIR --gguf SPEC=MEMBER --out tokenizer.json

Reads `tokenizer.ggml.*`: the model must be "gpt2" (byte-level BPE); tokens and merges are
taken as stored (merge rank = order); control tokens (type 3) become special added tokens and
user-defined tokens (type 4) plain added tokens, all matched on the raw text as llama.cpp does.
The pre-tokenizer reproduces llama.cpp's split regex for `tokenizer.ggml.pre` (see
PRE_TOKENIZERS). A BOS/EOS is added by the post-processor only where `add_bos_token` /
`add_eos_token` say so. The output loads in the Rust `tokenizers` crate and in Python.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from gguf_common import (
    ConvertError,
    GgufModel,
    add_gguf_args,
    atomic_output,
    open_gguf,
    progress,
    run_cli,
)

TOKEN_CONTROL = 3
TOKEN_USER_DEFINED = 4

_BYTE_LEVEL = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
_BYTE_LEVEL_NO_REGEX = {
    "type": "ByteLevel",
    "add_prefix_space": False,
    "trim_offsets": False,
    "use_regex": False,
}
_QWEN2_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)

# tokenizer.ggml.pre -> (normalizer, pre_tokenizer), as the models' own tokenizer.json files have.
PRE_TOKENIZERS: dict[str, tuple[dict[str, Any] | None, dict[str, Any]]] = {
    # GPT-2's regex; ByteLevel applies it (its use_regex).
    "gpt-2": (None, _BYTE_LEVEL),
    # llama.cpp: "\p{N}" first (every digit alone), then GPT-2's regex.
    "smollm": (
        None,
        {"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": True}, _BYTE_LEVEL]},
    ),
    "qwen2": (
        {"type": "NFC"},
        {
            "type": "Sequence",
            "pretokenizers": [
                {
                    "type": "Split",
                    "pattern": {"Regex": _QWEN2_REGEX},
                    "behavior": "Isolated",
                    "invert": False,
                },
                _BYTE_LEVEL_NO_REGEX,
            ],
        },
    ),
}


def post_processor(model: GgufModel, tokens: list[str]) -> dict[str, Any]:
    """ByteLevel offsets, plus BOS/EOS around each sequence only where the metadata asks for it."""
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": True}
    add_bos = bool(model.meta("tokenizer.ggml.add_bos_token", False))
    add_eos = bool(model.meta("tokenizer.ggml.add_eos_token", False))
    if not (add_bos or add_eos):
        return byte_level
    specials: dict[str, Any] = {}

    def special(kind: str, type_id: int) -> list[dict[str, Any]]:
        token_id = model.meta(f"tokenizer.ggml.{kind}_token_id")
        content = tokens[token_id]
        specials[content] = {"id": content, "ids": [token_id], "tokens": [content]}
        return [{"SpecialToken": {"id": content, "type_id": type_id}}]

    def template(type_id: int) -> list[dict[str, Any]]:
        bos = special("bos", type_id) if add_bos else []
        eos = special("eos", type_id) if add_eos else []
        return bos + [{"Sequence": {"id": "A" if type_id == 0 else "B", "type_id": type_id}}] + eos

    single = template(0)
    pair = single + template(1)
    processor = {"type": "TemplateProcessing", "single": single, "pair": pair, "special_tokens": specials}
    return {"type": "Sequence", "processors": [byte_level, processor]}


def build_tokenizer(model: GgufModel) -> dict[str, Any]:
    kind = model.meta("tokenizer.ggml.model")
    if kind != "gpt2":
        raise ConvertError(f"{model.label}: tokenizer.ggml.model {kind!r} is not supported (gpt2 BPE only)")
    pre = model.meta("tokenizer.ggml.pre", "gpt-2")
    if pre not in PRE_TOKENIZERS:
        raise ConvertError(
            f"{model.label}: tokenizer.ggml.pre {pre!r} is not supported ({', '.join(PRE_TOKENIZERS)})"
        )
    normalizer, pre_tokenizer = PRE_TOKENIZERS[pre]
    tokens: list[str] = model.meta("tokenizer.ggml.tokens")
    types: list[int] = model.meta("tokenizer.ggml.token_type")
    if len(types) != len(tokens):
        raise ConvertError(f"{model.label}: {len(tokens)} tokens but {len(types)} token types")
    vocab: dict[str, int] = {}
    for token_id, token in enumerate(tokens):
        if token in vocab:
            raise ConvertError(f"{model.label}: token {token!r} appears twice ({vocab[token]}, {token_id})")
        vocab[token] = token_id
    merges = []
    for merge in model.meta("tokenizer.ggml.merges"):
        parts = merge.split(" ")
        if len(parts) != 2:
            raise ConvertError(f"{model.label}: merge {merge!r} is not two tokens")
        merges.append(parts)
    added = [
        {
            "id": token_id,
            "content": tokens[token_id],
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "special": kind_id == TOKEN_CONTROL,
        }
        for token_id, kind_id in enumerate(types)
        if kind_id in (TOKEN_CONTROL, TOKEN_USER_DEFINED)
    ]
    unk_id = model.meta("tokenizer.ggml.unknown_token_id", None)
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": normalizer,
        "pre_tokenizer": pre_tokenizer,
        "post_processor": post_processor(model, tokens),
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None if unk_id is None else tokens[unk_id],
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": vocab,
            "merges": merges,
        },
    }


def convert(args: argparse.Namespace) -> None:
    started = time.monotonic()
    with open_gguf(args.downloads, args.gguf) as model:
        tokenizer = build_tokenizer(model)
    text = json.dumps(tokenizer, ensure_ascii=False, separators=(",", ":")) + "\n"
    with atomic_output(args.out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    model_part = tokenizer["model"]
    progress(
        f"wrote {args.out}: {len(model_part['vocab'])} tokens, {len(model_part['merges'])} merges, "
        f"{len(tokenizer['added_tokens'])} added, in {time.monotonic() - started:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="gguf_tokenizer.py", description=__doc__.splitlines()[0])
    add_gguf_args(parser)
    parser.add_argument("--out", type=Path, required=True, help="the tokenizer.json to write")
    run_cli(parser, convert)


if __name__ == "__main__":
    main()
