"""Post-training int8 quantisation of Linear layers: from scratch, then with PyTorch's kernels.

A float32 weight takes 4 bytes; an int8 one takes 1. Symmetric per-output-channel quantisation
of a weight matrix W (out, in) keeps, for each row j, one float scale s_j:

    s_j   = max_i |W_ji| / 127                      scale of row j
    q_ji  = clamp(round(W_ji / s_j), -127, 127)      int8
    Ŵ_ji  = s_j · q_ji                               dequantised; |Ŵ - W| <= s_j / 2

Two ways to run the result:

- `quantize_weights_int8` (from scratch, `Int8Linear`): stores q and s, and computes
  y = x Ŵᵀ + b in float32. The file is ~4x smaller; the arithmetic, and so the speed, is the
  float model's. It shows exactly what rounding to 8 bits costs in accuracy.
- `quantize_dynamic` (PyTorch's `torch.ao.quantization.quantize_dynamic`): the same int8
  weights, and at run time the activations are quantised too, per batch, from their observed
  range (uint8 with scale s_x and zero point z_x), so that the matmul runs in integers:
  y ≈ s_x · s_w · (q_x - z_x) q_wᵀ + b, int8 x uint8 products summed in int32 (fbgemm / onednn
  kernels on x86, qnnpack on ARM). Smaller AND faster on the CPU.

torch.ao.quantization is deprecated in favour of the separate `torchao` package; it still ships
with (and works in) the torch this kit runs on, and `quantize_dynamic` raises a clear error on a
torch that no longer has it. Convolutions stay float in both: dynamic quantisation covers Linear
layers, which hold almost all the weights of the MNIST networks (3.2 M of the seed CNN's 3.3 M).
"""
from __future__ import annotations

import copy
import warnings

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["quantize_tensor", "dequantize", "Int8Linear", "quantize_weights_int8", "quantize_dynamic"]


def quantize_tensor(w: torch.Tensor, *, bits: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric per-row quantisation of w (out, in): (q int8 (out, in), s float32 (out,))."""
    if w.dim() != 2:
        raise ValueError(f"quantize_tensor expects a weight matrix (out, in); got shape {tuple(w.shape)}.")
    if not 2 <= bits <= 8:
        raise ValueError(f"quantize_tensor: bits must be in 2..8 (stored as int8); got {bits}.")
    qmax = 2 ** (bits - 1) - 1                                               # 127 for 8 bits
    s = w.detach().abs().amax(dim=1).clamp_min(1e-12) / qmax                 # (out,)
    q = torch.clamp(torch.round(w.detach() / s[:, None]), -qmax, qmax)       # (out, in)
    return q.to(torch.int8), s.to(torch.float32)


def dequantize(q: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """Ŵ = s · q (float32, (out, in))."""
    return q.to(torch.float32) * s[:, None]                                  # (out, in)


class Int8Linear(nn.Module):
    """A Linear layer whose weight is stored as int8 with one float scale per output row."""

    def __init__(self, q: torch.Tensor, s: torch.Tensor, bias: torch.Tensor | None):
        super().__init__()
        self.in_features, self.out_features = q.shape[1], q.shape[0]
        self.register_buffer("q", q)                                          # (out, in) int8
        self.register_buffer("s", s)                                          # (out,) float32
        self.register_buffer("bias", None if bias is None else bias.detach().clone())

    @classmethod
    def from_linear(cls, linear: nn.Linear, *, bits: int = 8) -> "Int8Linear":
        q, s = quantize_tensor(linear.weight, bits=bits)
        return cls(q, s, linear.bias)

    def forward(self, x):
        return F.linear(x, dequantize(self.q, self.s), self.bias)             # (N, out)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, int8 per-row scales"


def _replace_linears(module: nn.Module, make) -> None:
    for name, child in module.named_children():
        if isinstance(child, nn.Linear):
            setattr(module, name, make(child))
        else:
            _replace_linears(child, make)


def _check_torch_module(model):
    from course.keras.layers.base import Layer
    if isinstance(model, Layer):
        raise TypeError("Quantisation replaces PyTorch's nn.Linear layers; a course.keras model has Dense layers. "
                        "Convert it first: course.compress.convert.to_torch(model, x_example).")
    if not any(isinstance(m, nn.Linear) for m in model.modules()):
        raise ValueError(f"{type(model).__name__} has no nn.Linear layer to quantise.")


def quantize_weights_int8(model: nn.Module, *, bits: int = 8) -> nn.Module:
    """A copy of `model` (eval mode) with every nn.Linear replaced by an `Int8Linear` (from scratch)."""
    _check_torch_module(model)
    out = copy.deepcopy(model).eval()
    _replace_linears(out, lambda lin: Int8Linear.from_linear(lin, bits=bits))
    return out


def quantize_dynamic(model: nn.Module) -> nn.Module:
    """A copy of `model` with PyTorch's dynamically quantised int8 Linear layers (CPU only)."""
    _check_torch_module(model)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.filterwarnings("ignore", message=".*torch.ao.quantization is deprecated.*")
            warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*deprecated.*")
            from torch.ao.quantization import quantize_dynamic as _qd
            cpu = copy.deepcopy(model).cpu().eval()
            return _qd(cpu, {nn.Linear}, dtype=torch.qint8)
    except (ImportError, AttributeError) as exc:
        raise ImportError(f"This torch ({torch.__version__}) has no torch.ao.quantization.quantize_dynamic; install "
                          f"torchao and use torchao.quantization.quantize_(model, "
                          f"Int8DynamicActivationInt8WeightConfig()), or use quantize_weights_int8 (from scratch).") \
            from exc
