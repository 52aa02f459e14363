#!/usr/bin/env bash
# One pilot run: train NAME for MINUTES (default 10) training minutes on one thread, then score it by the
# sticker-space FD of 2,000 samples. Usage: scripts/pilot.sh NAME --model M [more catgan train args]
# The run folder is ~/.cache/catgan/runs/pilot-NAME; its eval.json holds the score.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
R=${RUNS:-$HOME/.cache/catgan/runs}
name=$1; shift
$PY -m catgan train --data stickers --resolution 64 --steps 10000000 --minutes "${MINUTES:-10}" --threads 1 \
    --sample-every 500 --checkpoint-every 2000 --log-every 50 "$@" --out "$R/pilot-$name" > "$R/pilot-$name.log" 2>&1
$PY -m catgan eval "$R/pilot-$name/checkpoint.safetensors" --n 2000 --spaces sticker \
    --json "$R/pilot-$name/eval.json" >/dev/null
