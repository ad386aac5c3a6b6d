#!/usr/bin/env bash
# The fuzz targets of the wire formats (fuzz/), each for a bounded time: RTP stream, RTCP, SDP.
# Needs cargo-fuzz and a nightly toolchain (scripts/setup.sh installs both). A crash fails the
# run and leaves the input under fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${FUZZ_SECONDS:-20}"
# cargo fuzz wants nightly for its sanitizer flags; without a nightly toolchain the stable one
# runs it with RUSTC_BOOTSTRAP and no sanitizer (coverage-guided all the same).
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz=(cargo +nightly fuzz run)
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz run --sanitizer none)
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for target in rtp_stream rtcp sdp; do
    mkdir -p "fuzz/corpus/$target"
    echo "fuzz: $target for ${SECONDS_PER_TARGET}s"
    rc=0
    "${fuzz[@]}" --release "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
        -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1 || rc=$?
    grep -E "stat::number_of_executed_units|SUMMARY|panicked" "$log" || true
    if [ "$rc" -ne 0 ]; then
        tail -n 40 "$log"
        echo "fuzz: $target failed (rc $rc); the input is under fuzz/artifacts/$target/"
        exit 1
    fi
done
