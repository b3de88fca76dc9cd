"""Inverted dropout, forward and backward by hand.

Keras and PyTorch both use *inverted* dropout: during training each unit is kept with
probability 1 − rate and the kept units are scaled by 1/(1 − rate), so the expected activation
is unchanged and inference needs no rescaling.  TF1's ``tf.nn.dropout(x, keep_prob)`` is the
same thing with keep_prob = 1 − rate.
"""

from __future__ import annotations

import torch

__all__ = ["dropout_forward", "dropout_backward"]


def dropout_forward(x: torch.Tensor, rate: float, *, training: bool = True, generator: torch.Generator | None = None):
    r"""Inverted dropout.

        mask_k ~ Bernoulli(1 − rate),    out = x ⊙ mask / (1 − rate)     (training)
        out = x                                                           (inference)

    ``rate`` is the fraction *dropped* (Keras ``Dropout(rate)``).  ``generator`` makes the mask
    reproducible (it must live on x's device).  Returns ``(out, cache)``; the cache holds the
    scaled mask m = mask / (1 − rate), or ``None`` at inference.
    """
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout rate must be in [0, 1) (the fraction dropped); got {rate}. "
            "TF1's keep_prob is 1 - rate.")
    if not training or rate == 0.0:
        return x, None
    keep = 1.0 - rate
    u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)  # (...)
    m = (u < keep).to(x.dtype) / keep  # (...) scaled mask, 0 or 1/(1 − rate)
    out = x * m  # (...)
    return out, m


def dropout_backward(dout: torch.Tensor, cache):
    r"""∂L/∂x = ∂L/∂out ⊙ m: the same mask and scale as the forward (identity at inference)."""
    m = cache
    if m is None:
        return dout
    dx = dout * m  # (...)
    return dx
