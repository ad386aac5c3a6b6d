#!/usr/bin/env bash
# Voice-to-voice latency by stage over scenarios run as phone calls (hotline eval --voice), on
# this machine, side by side on the same calls in the same run:
#   1. hotline as configured: Whisper base (8-bit weights) with tiny.en (8-bit) first while the
#      call is in English, the model reading the conversation while the caller speaks,
#      speculative transcription and planning during the caller's pause, a filler as soon as a
#      turn that will look something up ends, the first clause spoken while the rest is made;
#   2. the plain cascade a user would otherwise build from the same parts: Whisper base, wait
#      for the end of the turn, transcribe, plan, speak (speculation and fillers off);
#   3. with HOTLINE_BEFORE=path/to/an/older/hotline, that build as configured (to measure a
#      change against the code before it: build the older commit in a worktree, copy its
#      target/release/hotline aside).
# Usage: benches/voice_latency.sh [SCENARIO...]   (default: the voice suite and 12 others)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./target/release/hotline
# hotline refuses HOTLINE_* variables that name no setting: keep this one from it.
before="${HOTLINE_BEFORE:-}"
unset HOTLINE_BEFORE
if [ $# -gt 0 ]; then
    scenarios=("$@")
else
    scenarios=(tests/scenarios-voice)
    for n in 01 03 05 10 16 21 25 30 34 37 39 43; do
        scenarios+=(tests/scenarios/"$n"-*.yaml)
    done
fi
echo "== hotline as configured"
"$bin" eval --voice "${scenarios[@]}" | grep -v '^\s' | tail -n 12
echo "== plain cascade (Whisper base; speculation and fillers off)"
HOTLINE_ASR_MODEL=base HOTLINE_ASR_ENGLISH_FIRST=none \
    HOTLINE_CALL_SPECULATE_AFTER_MS=0 HOTLINE_CALL_FILLER_AFTER_MS=600000 \
    HOTLINE_CALL_FINISHED_END_SILENCE_MS=700 \
    "$bin" eval --voice "${scenarios[@]}" | grep -v '^\s' | tail -n 12
if [ -n "$before" ]; then
    echo "== $before as configured"
    "$before" eval --voice "${scenarios[@]}" | grep -v '^\s' | tail -n 12
fi
