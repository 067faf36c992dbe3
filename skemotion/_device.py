"""Resolve the `device` and `precision` parameters of encoders when a model loads."""

import re

from ._optional import import_optional_dependency

_DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|(cuda|xpu)(:\d+)?)$")
PRECISIONS = ("auto", "float32", "float16", "bfloat16")
# Precisions that only some encoders offer, and only on the CPU (TextEncoder: ONNX Runtime).
CPU_ONLY_PRECISIONS = ("int8",)


def check_device_string(device, caller):
    """Validate the spelling of a device without importing torch."""
    if not _DEVICE_PATTERN.match(device):
        raise ValueError(
            f"The 'device' parameter of {caller} must be 'auto', 'cpu', 'mps', 'cuda' or "
            f"'cuda:<index>'. Got {device!r} instead."
        )


def resolve_device(device, caller, extra):
    """Return the ``torch.device`` for `device`; ``"auto"`` prefers cuda, then mps, then cpu."""
    torch = import_optional_dependency("torch", extra=extra, caller=caller)
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            f"{caller} was asked for device={device!r}, but torch sees no CUDA device "
            f"(torch {torch.__version__}). Use device='auto' or device='cpu'."
        )
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError(
            f"{caller} was asked for device={device!r}, but MPS is not available here. "
            "Use device='auto' or device='cpu'."
        )
    return resolved


def resolve_dtype(precision, device, caller, extra):
    """Return the ``torch.dtype`` for `precision` on `device`; ``"auto"`` is fp16 on cuda only."""
    torch = import_optional_dependency("torch", extra=extra, caller=caller)
    if precision == "auto":
        return torch.float16 if device.type == "cuda" else torch.float32
    if precision == "float16" and device.type == "cpu":
        raise ValueError(
            f"{caller} got precision='float16' on the CPU, where half precision is slow "
            "and some operations are missing. Use precision='auto', 'float32' or 'bfloat16'."
        )
    return getattr(torch, precision)


def check_cpu_only_precision(precision, device, caller):
    """Refuse a CPU-only precision (int8) on any device but the CPU, naming the fix."""
    if precision in CPU_ONLY_PRECISIONS and device not in ("auto", "cpu"):
        raise ValueError(
            f"{caller} got precision={precision!r} with device={device!r}, but {precision} "
            "runs on the CPU only (through ONNX Runtime). Pass device='cpu' (or 'auto', "
            f"the CPU for {precision}), or another precision to run on {device!r} "
            "(precision='auto' is float16 on cuda)."
        )
