#!/usr/bin/env bash
# After training: evaluate every shipped model (5,000 vs 5,000), the real-vs-real floor, and write the cards.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
MACHINE=${MACHINE:-"2-core x86-64 CPU, no GPU"}
for name in "${@:-dcgan-stickers64 began-stickers64 pgwgan-stickers64 began-kstuck-stickers64}"; do
  $PY -m catgan eval "checkpoints/$name/model.safetensors" --n 5000 >/dev/null
  $PY -c "import sys; from catgan.zoo import write_card; write_card(sys.argv[1], sys.argv[2])" "checkpoints/$name" "$MACHINE"
done
$PY -c "
from catgan.audit.evaluate import real_vs_real
from catgan.data.dataset import default_dataset
from catgan.io import atomic_write_json
atomic_write_json('checkpoints/real_vs_real.json', real_vs_real(default_dataset(64), 5000))"
