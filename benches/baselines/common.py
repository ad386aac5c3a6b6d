"""Helpers shared by the baseline scripts. Standard library only, so that a script can import
this module and call `limit_threads` before numpy, CTranslate2 or ONNX Runtime are loaded."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

WARMUPS = 1
REPEATS = 3

# Thread-pool sizes that OpenMP (CTranslate2), OpenBLAS (numpy) and MKL read once, when loaded.
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def limit_threads(threads: int) -> None:
    """Caps the thread pools of the numeric libraries at `threads`. Call before importing them:
    the engines get the same count explicitly as well (cpu_threads, intra_op_num_threads)."""
    for name in THREAD_ENV:
        os.environ[name] = str(threads)


def positive_int(text: str) -> int:
    """argparse type for a count of at least 1."""
    value = int(text)
    if value < 1:
        raise ValueError(f"{text} is not a positive integer")
    return value


def timed_runs(run: Callable[[], T]) -> list[T]:
    """Calls `run` WARMUPS times, discarding the results, then REPEATS times; returns the
    results of those REPEATS calls. `run` does its own timing and returns it."""
    for _ in range(WARMUPS):
        run()
    return [run() for _ in range(REPEATS)]


def emit(report: dict[str, Any]) -> None:
    """Prints `report` as one JSON line on stdout (the only thing a script prints there)."""
    json.dump(report, sys.stdout, ensure_ascii=False, separators=(",", ":"))
    sys.stdout.write("\n")
    sys.stdout.flush()


def fail(prog: str, message: str) -> int:
    """Prints `prog: message` on stderr; returns the exit status for main()."""
    print(f"{prog}: {message}", file=sys.stderr)
    return 1
