#!/usr/bin/env bash
# The dialog model, chosen by measurement: every model below runs the same text scenario
# suites on this machine in one go, with the phrase lexicon (as the product runs) and with the
# model choosing every action alone (--model-only), and one table comes out: task success, tool
# accuracy, leaks, reply latency p50/p95 (a caller's text to the replies) and the eval
# process's peak memory (all models of the dialog core loaded).
# With --voice, the voice suites instead (English and Mandarin phone calls, hotline as
# configured: lexicon on, speculation and fillers on), adding voice-to-voice p50/p95.
# Usage: benches/model_choice.sh [--voice] [MODEL...]   (names from the list below; default: all)
# Needs every candidate: `./target/release/hotline models fetch --all` (make bench-models does it).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./target/release/hotline
out=target/model-choice
mkdir -p "$out"
voice=()
if [ "${1:-}" = --voice ]; then
    voice=(--voice)
    shift
fi

# name | ONNX decoder | tokenizer | hotline-llm.json | modes ("lexicon model-only" or one)
models=(
    "smollm2-135m-q8|smollm2-135m-instruct.q8.onnx|smollm2-135m-instruct|lexicon model-only"
    "qwen2.5-coder-0.5b-q8|qwen2.5-coder-0.5b-instruct.q8.onnx|qwen2.5-coder-0.5b-instruct|lexicon model-only"
    "qwen2.5-coder-0.5b-int8|qwen2.5-coder-0.5b-instruct.int8.onnx|qwen2.5-coder-0.5b-instruct|lexicon model-only"
    "qwen2.5-coder-0.5b-fp32|qwen2.5-coder-0.5b-instruct.fp32.onnx|qwen2.5-coder-0.5b-instruct|model-only"
    "qwen2.5-coder-1.5b-q8|qwen2.5-coder-1.5b-instruct.q8.onnx|qwen2.5-coder-1.5b-instruct|lexicon model-only"
    "qwen2.5-coder-1.5b-int8|qwen2.5-coder-1.5b-instruct.int8.onnx|qwen2.5-coder-1.5b-instruct|model-only"
    "qwen2.5-coder-1.5b-fp32|qwen2.5-coder-1.5b-instruct.fp32.onnx|qwen2.5-coder-1.5b-instruct|model-only"
)
if [ ${#voice[@]} -gt 0 ]; then
    suites=("English voice|tests/scenarios-voice" "Mandarin voice|tests/scenarios-voice-zh")
    echo "| model | suite | passed | task success | tool accuracy | leaks | p50 reply | p95 reply | v2v p50 | v2v p95 | peak memory |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
else
    suites=("English|tests/scenarios tests/scenarios-heldout" "Mandarin|tests/scenarios-zh")
    echo "| model | suite | mode | passed | task success | tool accuracy | leaks | p50 reply | p95 reply | peak memory |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
fi
for entry in "${models[@]}"; do
    IFS='|' read -r name onnx stem modes <<<"$entry"
    if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
    for suite in "${suites[@]}"; do
        IFS='|' read -r suite_name paths <<<"$suite"
        [ ${#voice[@]} -gt 0 ] && modes=lexicon
        for mode in $modes; do
            flag=()
            [ "$mode" = model-only ] && flag=(--model-only)
            log="$out/$name.${suite_name// /-}.$mode.log"
            # shellcheck disable=SC2086 # paths is a list of folders
            HOTLINE_LLM_MODEL="models/$onnx" HOTLINE_LLM_TOKENIZER="models/$stem.tokenizer.json" \
                HOTLINE_LLM_MODEL_CONFIG="models/$stem.hotline-llm.json" \
                "$bin" eval "${voice[@]}" $paths "${flag[@]}" >"$log" 2>&1 || true
            summary=$(tail -n 1 "$log")
            python3 - "$name" "$suite_name" "$mode" "$summary" <<'PY'
import json, sys
name, suite, mode, line = sys.argv[1:]
try:
    s = json.loads(line)
except ValueError:
    print(f"| {name} | {suite} | failed: {line[:80]} |")
    sys.exit()
mem = f"{s['peak_rss_mb']:.0f} MB" if s.get("peak_rss_mb") else "?"
cells = [name, suite] + ([] if "v2v_p50_ms" in s else [mode])
cells += [f"{s['passed']}/{s['scenarios']}", f"{s['task_success']:.2f}", f"{s['tool_accuracy']:.2f}",
          str(s["leaks"]), f"{s['p50_reply_ms']:.0f} ms", f"{s['p95_reply_ms']:.0f} ms"]
if "v2v_p50_ms" in s:
    cells += [f"{s['v2v_p50_ms']:.0f} ms", f"{s['v2v_p95_ms']:.0f} ms"]
print("| " + " | ".join(cells + [mem]) + " |")
PY
        done
    done
done
