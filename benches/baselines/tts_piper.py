#!/usr/bin/env python3
"""Speech-synthesis baseline: piper-tts (ONNX Runtime, espeak-ng inside the wheel) on the Piper
voice the Rust side uses, for side-by-side timing against piper-rs.

    benches/baselines/.venv/bin/python benches/baselines/tts_piper.py \
        --voice models/en_US-joe-medium.onnx --threads 2 TEXT...

Loads the voice once (load_s: the voice's .onnx.json and an ONNX Runtime session), then for each
text synthesizes once to warm up and 3 times measured, with the voice's own length and noise
scales. PiperVoice.synthesize phonemizes the whole text with espeak-ng, then runs the model once
per sentence and yields each sentence's audio as soon as it is made, so:

    first_audio_s  time until the first sentence's audio is yielded (phonemizing all the text,
                   then the model on sentence one): piper's own streaming granularity;
    total_s        time until the last sentence's audio is yielded;
    audio_s        seconds of audio made (it varies a little from run to run: the voice samples
                   phoneme durations);
    rtf            total_s / audio_s.

Each is the median of the 3 measured runs, taken separately. Prints one JSON line:

    {"engine":"piper-tts","version":"1.8.0","onnxruntime":"1.31.1","threads":2,"load_s":...,
     "results":[{"text":...,"sentences":...,"first_audio_s":...,"total_s":...,"audio_s":...,
     "rtf":...}]}

ONNX Runtime runs with exactly --threads intra-op threads (the calling thread included, as ORT
counts them), one inter-op thread, sequential execution; the OpenMP/BLAS pools are capped to the
same count.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import NamedTuple

from common import emit, fail, limit_threads, positive_int, timed_runs

PROG = "tts_piper"


class Run(NamedTuple):
    first_audio_s: float
    total_s: float
    audio_s: float
    sentences: int

    @property
    def rtf(self) -> float:
        return self.total_s / self.audio_s


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--voice", type=Path, required=True,
                        help="Piper voice .onnx, with its .onnx.json beside it")
    parser.add_argument("--threads", type=positive_int, required=True,
                        help="ONNX Runtime intra-op threads")
    parser.add_argument("texts", nargs="+", metavar="TEXT")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    limit_threads(args.threads)
    # Imported only now, so that the thread caps are in the environment when they load.
    import onnxruntime
    from piper import PiperConfig, PiperVoice

    config_path = Path(f"{args.voice}.json")
    for path in (args.voice, config_path):
        if not path.is_file():
            return fail(PROG, f"{path} does not exist; run `hotline models fetch`")
    if not all(text.strip() for text in args.texts):
        return fail(PROG, "every TEXT must have something to say")

    start = time.perf_counter()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    # PiperVoice.load does the same minus the thread settings, which it does not expose.
    voice = PiperVoice(
        config=PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8"))),
        session=onnxruntime.InferenceSession(str(args.voice), sess_options=options,
                                             providers=["CPUExecutionProvider"]),
    )
    load_s = time.perf_counter() - start

    def synthesize(text: str) -> Run:
        begin = time.perf_counter()
        first = None
        samples = sentences = 0
        for chunk in voice.synthesize(text):
            if first is None:
                first = time.perf_counter() - begin
            samples += chunk.audio_float_array.size
            sentences += 1
        total = time.perf_counter() - begin
        if first is None:
            raise ValueError(f"piper made no audio for {text!r}")
        return Run(first, total, samples / voice.config.sample_rate, sentences)

    results = []
    for text in args.texts:
        try:
            runs = timed_runs(functools.partial(synthesize, text))
        except ValueError as err:
            return fail(PROG, str(err))
        results.append({
            "text": text,
            "sentences": runs[-1].sentences,
            "first_audio_s": round(statistics.median(run.first_audio_s for run in runs), 4),
            "total_s": round(statistics.median(run.total_s for run in runs), 4),
            "audio_s": round(statistics.median(run.audio_s for run in runs), 3),
            "rtf": round(statistics.median(run.rtf for run in runs), 4),
        })
    emit({
        "engine": "piper-tts",
        "version": version("piper-tts"),
        "onnxruntime": onnxruntime.__version__,
        "threads": args.threads,
        "load_s": round(load_s, 4),
        "results": results,
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
