"""Write hotline's small JSON config for a GGUF chat model: shapes, special tokens, chat format.

Usage:
    gguf_llm_config.py --downloads DIR --gguf SPEC=MEMBER --out hotline-llm.json

The runtime needs this beside the ONNX decoder and tokenizer.json: the KV cache shapes
(n_layers, n_kv_heads, head_dim), the vocabulary size, the context length, the special tokens,
and how to lay out a conversation. The chat format is recognised from the Jinja template in
`tokenizer.chat_template` (kept verbatim as `chat_template_raw`); `stop_strings` end a reply,
`stop_token_ids` are the same as single token ids plus EOS. `default_system_prompt` is the
system turn the template inserts when a conversation has none (null if it inserts none).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
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

# name -> (marker the Jinja template contains, strings that end an assistant turn,
#          regex for a system turn written literally in the template)
CHAT_FORMATS = {
    "chatml": ("<|im_start|>", ["<|im_end|>"], r"<\|im_start\|>system\n(.*?)<\|im_end\|>"),
}


# config prefix -> GGUF metadata key of that special token's id
SPECIAL_TOKENS = {
    "bos": "tokenizer.ggml.bos_token_id",
    "eos": "tokenizer.ggml.eos_token_id",
    "pad": "tokenizer.ggml.padding_token_id",
    "unk": "tokenizer.ggml.unknown_token_id",
}


def special_token(model: GgufModel, tokens: list[str], key: str) -> tuple[str | None, int | None]:
    token_id = model.meta(key, None)
    if token_id is None:
        return None, None
    if not 0 <= token_id < len(tokens):
        raise ConvertError(f"{model.label}: {key} {token_id} is not a token")
    return tokens[token_id], token_id


def build_config(model: GgufModel) -> dict[str, Any]:
    hp = model.hyper()
    tokens: list[str] = model.meta("tokenizer.ggml.tokens")
    template = model.meta("tokenizer.chat_template")
    names = [name for name, (marker, _, _) in CHAT_FORMATS.items() if marker in template]
    if not names:
        raise ConvertError(
            f"{model.label}: tokenizer.chat_template is none of the known formats ({', '.join(CHAT_FORMATS)})"
        )
    chat_format = names[0]
    _, stop_strings, system_turn = CHAT_FORMATS[chat_format]
    system = re.search(system_turn, template, re.DOTALL)
    config: dict[str, Any] = {"architecture": hp.arch}
    config.update({k: v for k, v in dataclasses.asdict(hp).items() if k != "arch"})
    vocab = {token: token_id for token_id, token in enumerate(tokens)}
    stop_ids = [vocab[s] for s in stop_strings if s in vocab]
    for kind, key in SPECIAL_TOKENS.items():
        content, token_id = special_token(model, tokens, key)
        config[f"{kind}_token"], config[f"{kind}_token_id"] = content, token_id
        if kind == "eos" and token_id is not None and token_id not in stop_ids:
            stop_ids.append(token_id)
    config.update(
        add_bos_token=bool(model.meta("tokenizer.ggml.add_bos_token", False)),
        add_eos_token=bool(model.meta("tokenizer.ggml.add_eos_token", False)),
        chat_template=chat_format,
        stop_strings=stop_strings,
        stop_token_ids=stop_ids,
        default_system_prompt=system.group(1) if system else None,
        chat_template_raw=template,
    )
    return config


def convert(args: argparse.Namespace) -> None:
    with open_gguf(args.downloads, args.gguf) as model:
        config = build_config(model)
    with atomic_output(args.out) as tmp:
        tmp.write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    progress(f"wrote {args.out}: {config['architecture']}, chat format {config['chat_template']}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="gguf_llm_config.py", description=__doc__.splitlines()[0])
    add_gguf_args(parser)
    parser.add_argument("--out", type=Path, required=True, help="the JSON file to write")
    run_cli(parser, convert)


if __name__ == "__main__":
    main()
