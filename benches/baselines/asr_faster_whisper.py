#!/usr/bin/env python3
"""Speech-recognition baseline: faster-whisper (CTranslate2) on the Whisper model the Rust side
converts to ggml, for side-by-side timing against whisper.cpp.

    benches/baselines/.venv/bin/python benches/baselines/asr_faster_whisper.py \
        --model ~/.cache/hotline/baselines/whisper-base-ct2 --threads 2 --language en WAV...

Loads the model once (load_s), then for each WAV file (16-bit PCM; other rates and channel counts
are resampled to 16 kHz mono with numpy) transcribes greedily: beam_size=1, best_of=1,
temperature 0 with no fallback, without_timestamps, no VAD filter, no conditioning on previous
text. Each file is transcribed once to warm up, then 3 times; `seconds` is the median of those 3
(mel features, encoder and decoder, as whisper.cpp's full()). Prints one JSON line:

    {"engine":"faster-whisper","version":"1.2.1","ctranslate2":"4.8.5","compute_type":"float32",
     "threads":2,"load_s":...,"results":[{"file":...,"audio_s":...,"seconds":...,"text":...}]}

CTranslate2 runs with exactly --threads intra-op threads and one worker; the OpenMP/BLAS pools
are capped to the same count. --compute-type "default" keeps the model's type where the CPU
supports it; the fp16 Whisper base model therefore runs as float32 on CPUs without fp16 support
(the resolved type is reported).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from pathlib import Path

from common import emit, fail, limit_threads, positive_int, timed_runs

PROG = "asr_faster_whisper"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True,
                        help="CTranslate2 Whisper model directory (setup.sh assembles one)")
    parser.add_argument("--threads", type=positive_int, required=True,
                        help="CTranslate2 intra-op threads (cpu_threads)")
    parser.add_argument("--language", default="en",
                        help="language code, or 'auto' to detect it (default: en)")
    parser.add_argument("--compute-type", default="default",
                        help="CTranslate2 compute type (default: the model's, if supported)")
    parser.add_argument("wavs", nargs="+", type=Path, metavar="WAV")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    limit_threads(args.threads)
    # Imported only now, so that the thread caps are in the environment when they load.
    import ctranslate2
    import faster_whisper
    from faster_whisper import WhisperModel

    from wav16k import SAMPLE_RATE, WavError, read_wav_16k

    if not (args.model / "model.bin").is_file():
        return fail(PROG, f"{args.model} has no model.bin; run benches/baselines/setup.sh")
    try:
        clips = [(path, read_wav_16k(path)) for path in args.wavs]
    except WavError as err:
        return fail(PROG, str(err))

    start = time.perf_counter()
    model = WhisperModel(str(args.model), device="cpu", compute_type=args.compute_type,
                         cpu_threads=args.threads, num_workers=1)
    load_s = time.perf_counter() - start
    language = None if args.language == "auto" else args.language

    def transcribe(samples) -> tuple[float, str]:
        begin = time.perf_counter()
        segments, _ = model.transcribe(
            samples, language=language, beam_size=1, best_of=1, temperature=0.0,
            without_timestamps=True, vad_filter=False, condition_on_previous_text=False)
        text = "".join(segment.text for segment in segments).strip()  # decoding happens here
        return time.perf_counter() - begin, text

    results = []
    for path, samples in clips:
        runs = timed_runs(functools.partial(transcribe, samples))
        results.append({
            "file": str(path),
            "audio_s": round(samples.size / SAMPLE_RATE, 3),
            "seconds": round(statistics.median(seconds for seconds, _ in runs), 4),
            "text": runs[-1][1],
        })
    emit({
        "engine": "faster-whisper",
        "version": faster_whisper.__version__,
        "ctranslate2": ctranslate2.__version__,
        "compute_type": model.model.compute_type,
        "threads": args.threads,
        "load_s": round(load_s, 4),
        "results": results,
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
