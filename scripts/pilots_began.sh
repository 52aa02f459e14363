#!/usr/bin/env bash
# The pilots behind the BEGAN cpu preset, one after another on one thread (a long run can hold the other
# core), 10 training minutes each, judged by sticker-space FD and by k_t leaving 0. EMA in all of them.
set -euo pipefail
P="$(dirname "$0")/pilot.sh"
# gamma 0.75: the preset's value while these ran (round 3's winner, gamma 1.0, is the preset now)
COMMON=(--model began --preset cpu --set ema_kimg=10 --set gamma=0.75)
ROUND=${1:-all}     # "3" runs only round 3
if [ "$ROUND" = all ]; then
$P began-a-base "${COMMON[@]}"
$P began-b-cheap-d "${COMMON[@]}" --set 'd_channels=[64,32,16,16]'
$P began-c-elu-nonorm "${COMMON[@]}" --set norm=\"none\" --set act=\"elu\"
# round 2, on the winner of round 1 (the cheap D: FD 65 vs 384 and 261)
$P began-d-cheap-d-elu-nonorm "${COMMON[@]}" --set 'd_channels=[64,32,16,16]' --set norm=\"none\" --set act=\"elu\"
fi
# round 3 (2026-11-24), on B, which collapsed in the long run (pose "sleeping" in 78% of samples already at
# 10 minutes): one change each against the collapse. E: no batch norm in D only (with BN, D sees a fake
# batch relative to its own mean, so what all fakes share is invisible to it); F: gamma 1.0; G: DiffAugment.
# F won (FD 50 vs B's 65; E 106, G 74) and became the preset; the long run went on from F's run folder.
B=("${COMMON[@]}" --set 'd_channels=[64,32,16,16]')
$P began-e-d-nonorm "${B[@]}" --set d_norm=\"none\"
$P began-f-gamma1 "${B[@]}" --set gamma=1.0
$P began-g-diffaug "${B[@]}" --set diffaug=\"translation,color\"
