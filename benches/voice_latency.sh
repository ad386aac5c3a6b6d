#!/usr/bin/env bash
# Voice-to-voice latency by stage over scenarios run as phone calls (hotline eval --voice), on
# this machine, side by side on the same calls in the same run:
#   1. hotline as configured: speculative transcription and planning during the caller's
#      pause, a filler when a lookup is slow, the first clause spoken while the rest is made;
#   2. the same with the English-only settings that answer fastest here: Whisper tiny.en and
#      speculation after 120 ms of silence (a line without Mandarin callers);
#   3. the plain cascade a user would otherwise build from the same parts: wait for the end
#      of the turn, transcribe, plan, speak (speculation, fillers and the shorter end of a
#      finished-sounding turn off).
# Usage: benches/voice_latency.sh [SCENARIO...]   (default: the voice suite and 12 others)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./target/release/hotline
if [ $# -gt 0 ]; then
    scenarios=("$@")
else
    scenarios=(tests/scenarios-voice)
    for n in 01 03 05 10 16 21 25 30 34 37 39 43; do
        scenarios+=(tests/scenarios/"$n"-*.yaml)
    done
fi
echo "== hotline (speculation and fillers on)"
"$bin" eval --voice "${scenarios[@]}" | grep -v '^\s' | tail -n 12
echo "== hotline, English-only fast settings (tiny.en, speculation after 120 ms)"
HOTLINE_ASR_MODEL=tiny.en HOTLINE_CALL_SPECULATE_AFTER_MS=120 \
    "$bin" eval --voice "${scenarios[@]}" | grep -v '^\s' | tail -n 12
echo "== plain cascade (speculation and fillers off)"
HOTLINE_CALL_SPECULATE_AFTER_MS=0 HOTLINE_CALL_FILLER_AFTER_MS=600000 \
    HOTLINE_CALL_FINISHED_END_SILENCE_MS=700 \
    "$bin" eval --voice "${scenarios[@]}" | grep -v '^\s' | tail -n 12
