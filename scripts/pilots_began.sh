#!/usr/bin/env bash
# The pilots behind the BEGAN cpu preset, one after another on one thread (a long run can hold the other
# core), 10 training minutes each, judged by sticker-space FD and by k_t leaving 0. EMA in all of them.
set -euo pipefail
P="$(dirname "$0")/pilot.sh"
COMMON=(--model began --preset cpu --set ema_kimg=10)
$P began-a-base "${COMMON[@]}"
$P began-b-cheap-d "${COMMON[@]}" --set 'd_channels=[64,32,16,16]'
$P began-c-elu-nonorm "${COMMON[@]}" --set norm=\"none\" --set act=\"elu\"
# round 2, on the winner of round 1 (the cheap D: FD 65 vs 384 and 261)
$P began-d-cheap-d-elu-nonorm "${COMMON[@]}" --set 'd_channels=[64,32,16,16]' --set norm=\"none\" --set act=\"elu\"
