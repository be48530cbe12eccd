"""Where tensors live and in what precision the matrix products run.

- ``device``: ``auto`` (CUDA when a GPU is visible, else CPU), ``cpu``, ``cuda`` or ``cuda:N``.
- ``precision``: ``fp32``; ``bf16`` (autocast to bfloat16 on CPU or CUDA: weights and optimiser stay float32);
  ``fp16`` (CUDA only: autocast to float16 with a gradient scaler, as SimCSE's ``--fp16``); ``auto`` picks
  ``fp16`` on CUDA (SimCSE's setting) and ``fp32`` on CPU.
"""

from __future__ import annotations

import contextlib
import re

from .params import ParameterError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when a GPU is visible, else ``cpu``; asking for an absent GPU is an error."""
    import torch

    if not isinstance(device, str) or not re.fullmatch(r"auto|cpu|cuda(:\d+)?", device):
        raise ParameterError("device", device, "expected 'auto', 'cpu', 'cuda' or 'cuda:N'")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ParameterError("device", device, "no CUDA GPU is visible on this machine; use 'cpu' or 'auto'")
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise ParameterError("device", device, f"this machine has {torch.cuda.device_count()} GPU(s)")
    return device


def device_kind(device: str) -> str:
    """``cpu`` or ``cuda``: what decides the floating-point results (not which GPU of several)."""
    return "cuda" if str(device).startswith("cuda") else "cpu"


def resolve_precision(precision: str, device: str) -> str:
    if precision not in PRECISIONS:
        raise ParameterError("precision", precision, "expected one of " + ", ".join(map(repr, PRECISIONS)))
    kind = device_kind(device)
    if precision == "auto":
        return "fp16" if kind == "cuda" else "fp32"
    if precision == "fp16" and kind != "cuda":
        raise ParameterError("precision", precision, "fp16 autocast is for CUDA; on the CPU use 'bf16' or 'fp32'")
    return precision


def autocast(device: str, precision: str):
    """The autocast context for a resolved ``precision`` (a no-op for fp32)."""
    import torch

    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device_kind(device), dtype=dtype)


def keep_freed_memory() -> bool:
    """Ask glibc's allocator to keep freed blocks for reuse instead of returning them to the system (Linux only).

    A training step allocates and frees the same large activation buffers every time; by default glibc hands any
    block over 32 MB (and, adaptively, smaller ones) back with ``munmap`` and maps fresh zero pages next time, so
    every step pays page faults on its largest tensors. Measured on two cores, this made the pocket SimCSE step
    about 15 % slower. It changes no number. Returns whether the setting took (False off glibc)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(libc.mallopt(m_mmap_threshold, 1 << 30) or libc.mallopt(m_mmap_threshold, 32 << 20)) and bool(
            libc.mallopt(m_trim_threshold, (1 << 31) - 1)
        )
    except (OSError, AttributeError):
        return False
