"""Which device and precision this machine should use; sampling and training share it.

bf16 pays only where the hardware does it natively: CUDA GPUs with bf16, and CPUs
whose oneDNN reports bf16 support (AVX-512 BF16 / AMX). On an AVX2-only CPU bf16 is
emulated and far slower than fp32, so `auto` never picks it there.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

PRECISIONS = ("auto", "fp32", "bf16")
# Measured with this machine limited to AVX2 (ONEDNN_MAX_CPU_ISA=AVX2, ATEN_CPU_CAPABILITY=avx2): a 1024^2
# bf16 matmul ran at 1 GFLOP/s against 140 in fp32, and a DCGAN (ngf 64, batch 64) trained at 1.6 img/s
# in bf16 against 55 img/s in fp32; on a real AVX2 machine a BEGAN trained at 1.6 img/s in bf16.
EMULATED_BF16_NOTE = ("bf16 is emulated on this machine and about 30x slower than fp32 "
                      "(a DCGAN trained at 1.6 img/s in bf16 against 55 img/s in fp32 on AVX2)")


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """The device asked for, else CUDA, else Apple's MPS, else the CPU."""
    if device:
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def cpu_capability() -> str:
    """PyTorch's name for this CPU's vector instructions: "AVX2", "AVX512", "DEFAULT", ..."""
    try:
        return str(torch.backends.cpu.get_cpu_capability())
    except (AttributeError, RuntimeError):
        return "unknown"


def cpu_bf16_native() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def bf16_native(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return cpu_bf16_native()
    return False


@dataclass(frozen=True)
class Precision:
    name: str                  # "fp32" or "bf16": what the run uses
    requested: str             # "auto", "fp32" or "bf16": what was asked for
    reason: str                # one sentence a person can read
    warning: str | None = None

    @property
    def bf16(self) -> bool:
        return self.name == "bf16"


def choose_precision(requested: str = "auto", device: str | torch.device | None = None) -> Precision:
    """Resolve auto|fp32|bf16 for a device; bf16 where it is emulated is honoured but warned about."""
    if requested not in PRECISIONS:
        raise ValueError(f"unknown precision '{requested}'; choose from {', '.join(PRECISIONS)}")
    device = pick_device(device)
    native = bf16_native(device)
    where = f"{device.type}" + (f", {cpu_capability()}" if device.type == "cpu" else "")
    if requested == "fp32":
        return Precision("fp32", requested, f"fp32 as asked ({where})")
    if requested == "bf16":
        if native:
            return Precision("bf16", requested, f"bf16 as asked; native on this machine ({where})")
        return Precision("bf16", requested, f"bf16 as asked, although it is not native here ({where})",
                         warning=EMULATED_BF16_NOTE + "; use --precision auto or fp32")
    if native:
        return Precision("bf16", requested, f"auto: bf16 is native on this machine ({where}), about 2x fp32")
    return Precision("fp32", requested, f"auto: fp32, because bf16 is not native on this machine ({where})")


def machine_summary(device: str | torch.device | None = None) -> dict:
    """What a run, a card or a benchmark records about the machine it ran on."""
    device = pick_device(device)
    out = {"device": device.type, "cpu_capability": cpu_capability(), "cpu_bf16_native": cpu_bf16_native()}
    if device.type == "cuda":
        out["gpu"] = torch.cuda.get_device_name(device)
    return out
