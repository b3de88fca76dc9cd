"""Batch normalisation, forward and backward by hand (Keras semantics, channels-last).

Statistics are taken over every axis except the last (the feature / channel axis), so the same
pair handles dense activations (N, D) and images (N, H, W, C).  Keras defaults:
``momentum=0.99``, ``epsilon=1e-3``, and the *biased* batch variance both to normalise and to
update the moving variance.  (PyTorch: momentum 0.1 meaning 1 − 0.9, eps 1e-5, and the unbiased
variance for its running estimate.)
"""

from __future__ import annotations

import torch

__all__ = ["batchnorm_forward", "batchnorm_backward"]


def batchnorm_forward(
    x: torch.Tensor,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    *,
    running_mean: torch.Tensor | None = None,
    running_var: torch.Tensor | None = None,
    momentum: float = 0.99,
    epsilon: float = 1e-3,
    training: bool = True,
):
    r"""Batch normalisation over all axes but the last; M = number of values per feature.

    Training (batch statistics):

        μ = (1/M) Σ x,    σ² = (1/M) Σ (x − μ)²,    x̂ = (x − μ) / √(σ² + ε),
        out = γ ⊙ x̂ + β,
        running_mean ← momentum · running_mean + (1 − momentum) · μ     (in place, if given)
        running_var  ← momentum · running_var  + (1 − momentum) · σ²

    Inference (``training=False``) uses running_mean and running_var in place of μ and σ².

    Shapes: x (..., D), gamma (D,), beta (D,), running stats (D,) -> out (..., D).
    Returns ``(out, cache)``.
    """
    d = x.shape[-1]
    if gamma.shape != (d,) or beta.shape != (d,):
        raise ValueError(
            f"batchnorm_forward expects gamma and beta of shape ({d},) for x {tuple(x.shape)} (features last); "
            f"got {tuple(gamma.shape)} and {tuple(beta.shape)}."
        )
    axes = tuple(range(x.dim() - 1))
    if training:
        mu = x.mean(dim=axes)  # (D,)
        var = ((x - mu) ** 2).mean(dim=axes)  # (D,) biased, as Keras
        if running_mean is not None:
            running_mean.mul_(momentum).add_((1 - momentum) * mu.to(running_mean.dtype))
        if running_var is not None:
            running_var.mul_(momentum).add_((1 - momentum) * var.to(running_var.dtype))
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batchnorm_forward(training=False) needs running_mean and running_var.")
        mu, var = running_mean.to(x.dtype), running_var.to(x.dtype)  # (D,)
    inv_std = 1.0 / torch.sqrt(var + epsilon)  # (D,)  1/√(σ² + ε)
    x_hat = (x - mu) * inv_std  # (..., D)
    out = gamma * x_hat + beta  # (..., D)
    return out, (x_hat, gamma, inv_std, training)


def batchnorm_backward(dout: torch.Tensor, cache):
    r"""Backward of :func:`batchnorm_forward`.

    With g = ∂L/∂out and sums over the M values of each feature:

        ∂L/∂β = Σ g,     ∂L/∂γ = Σ g ⊙ x̂,     ĝ = g ⊙ γ  (= ∂L/∂x̂)

    Training -- μ and σ² depend on x, which adds two terms:

        ∂L/∂x = (1 / (M·√(σ² + ε))) · (M·ĝ − Σ ĝ − x̂ ⊙ Σ (ĝ ⊙ x̂))

    Inference -- the statistics are constants:  ∂L/∂x = ĝ / √(σ² + ε).

    Returns ``(dx, dgamma, dbeta)``.
    """
    x_hat, gamma, inv_std, training = cache
    axes = tuple(range(dout.dim() - 1))
    m = x_hat.numel() // x_hat.shape[-1]
    dbeta = dout.sum(dim=axes)  # (D,)
    dgamma = (dout * x_hat).sum(dim=axes)  # (D,)
    g_hat = dout * gamma  # (..., D)
    if training:
        dx = (inv_std / m) * (m * g_hat - g_hat.sum(dim=axes) - x_hat * (g_hat * x_hat).sum(dim=axes))  # (..., D)
    else:
        dx = g_hat * inv_std  # (..., D)
    return dx, dgamma, dbeta
