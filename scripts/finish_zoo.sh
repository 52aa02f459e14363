#!/usr/bin/env bash
# After training: evaluate every shipped model (5,000 vs 5,000, both feature spaces, ladders) and write its card.
# MACHINE describes where models saved before runs recorded their machine were trained.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
MACHINE=${MACHINE:-"cpu AVX512, bf16 (2 cores)"}
for name in "${@:-dcgan-stickers64 began-stickers64 pgwgan-stickers64}"; do
  $PY -m catgan eval "checkpoints/$name/model.safetensors" --n 5000 >/dev/null
  $PY -c "import sys; from catgan.card import write_card; write_card(sys.argv[1], sys.argv[2])" "checkpoints/$name" "$MACHINE"
done
