#!/usr/bin/env bash
# The pilots behind the default DCGAN recipe: two at a time, one thread each, 10 training minutes each,
# judged by the sticker-space FD of 2,000 samples. Run folders go to ~/.cache/catgan/runs/pilot-*.
# Round 1: A vs B (one change: transposed convs -> upsample + 3x3 conv). Round 2, on B: C vs D.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
R=${RUNS:-$HOME/.cache/catgan/runs}
COMMON=(--model dcgan --data stickers --preset classic --steps 10000000 --minutes 10 --threads 1
        --sample-every 500 --checkpoint-every 2000 --log-every 50 --set ema_kimg=10)
declare -A PILOTS=(
  [a-classic-ema]=""
  [b-upsample]="--set g_arch=\"upsample\""
  [c-sn-hinge]="--set g_arch=\"upsample\" --set loss=\"hinge\" --set spectral_norm=true --set lr=1e-4 --set lr_d=4e-4 --set betas=[0.0,0.9]"
  [d-diffaug]="--set g_arch=\"upsample\" --set diffaug=\"translation,color\""
)
run_pair() {
  for p in "$@"; do
    # shellcheck disable=SC2086
    $PY -m catgan train "${COMMON[@]}" ${PILOTS[$p]} --out "$R/pilot-$p" > "$R/pilot-$p.log" 2>&1 &
  done
  wait
  for p in "$@"; do
    $PY -m catgan eval "$R/pilot-$p/checkpoint.safetensors" --n 2000 --spaces sticker --json "$R/pilot-$p/eval.json" >/dev/null
  done
}
run_pair a-classic-ema b-upsample
run_pair c-sn-hinge d-diffaug
