"""Losses that return the loss and its gradient in one call.

A loss ends the backward pass, so it needs no ``dout``::

    loss, dlogits = softmax_cross_entropy(logits, labels)
    dx, dw, db = dense_backward(dlogits, cache)

``loss`` is a 0-d tensor (the batch mean, as Keras' default ``reduction="sum_over_batch_size"``)
and the gradient has the shape of the prediction.

Two hinge losses, because two traditions use the name:

* :func:`svm_loss` -- the multiclass SVM loss of CS231n (Weston-Watkins): integer labels and one
  score per class;
* :func:`hinge_loss` -- Keras' ``hinge``: targets in {-1, +1} (0/1 are converted), one margin per
  output unit, averaged.
"""

from __future__ import annotations

import torch

__all__ = ["softmax_cross_entropy", "mse_loss", "svm_loss", "hinge_loss"]


def _targets_as_probs(labels: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Integer labels (N,) -> one-hot (N, C); one-hot / probabilities (N, C) pass through."""
    n, c = logits.shape
    if labels.dim() == 1 and not labels.is_floating_point():
        if labels.shape[0] != n:
            raise ValueError(f"expected {n} integer labels for logits {tuple(logits.shape)}; got {labels.shape[0]}.")
        if labels.numel() and (labels.min() < 0 or labels.max() >= c):
            raise ValueError(
                f"integer labels must lie in [0, {c}) for {c} classes; got values in "
                f"[{int(labels.min())}, {int(labels.max())}]."
            )
        y = torch.zeros_like(logits)  # (N, C)
        y[torch.arange(n, device=logits.device), labels.long()] = 1
        return y
    if labels.shape != logits.shape:
        raise ValueError(
            f"labels must be integers of shape ({n},) or one-hot/probabilities of shape {tuple(logits.shape)}; "
            f"got {labels.dtype} of shape {tuple(labels.shape)}. Use labels.long() for class indices."
        )
    return labels.to(logits.dtype)


def _check_2d(name: str, t: torch.Tensor) -> None:
    if t.dim() != 2:
        raise ValueError(f"{name} expects scores of shape (batch, classes); got {tuple(t.shape)}.")


def softmax_cross_entropy(logits: torch.Tensor, labels: torch.Tensor):
    r"""Softmax followed by cross-entropy, fused, averaged over the batch.

    With p = softmax(z) row-wise and targets y (one-hot or a distribution):

        L = −(1/N) Σ_n Σ_c y_nc · log p_nc,
        log p_nc = z_nc − m_n − log Σ_k e^{z_nk − m_n},   m_n = max_k z_nk  (log-sum-exp trick),
        ∂L/∂z = (p − y) / N.

    The fused gradient p − y is why frameworks offer ``from_logits=True``: it never divides by p.

    ``labels``: integer class indices (N,) (``sparse_categorical_crossentropy``) or one-hot /
    probabilities (N, C) (``categorical_crossentropy``).  Returns ``(loss, dlogits)``.
    """
    _check_2d("softmax_cross_entropy", logits)
    n = logits.shape[0]
    y = _targets_as_probs(labels, logits)  # (N, C)
    z = logits - logits.amax(dim=1, keepdim=True)  # (N, C)
    log_sum = torch.log(torch.exp(z).sum(dim=1, keepdim=True))  # (N, 1)
    log_p = z - log_sum  # (N, C)
    loss = -(y * log_p).sum() / n  # ()
    p = torch.exp(log_p)  # (N, C)
    dlogits = (p - y) / n  # (N, C)
    return loss, dlogits


def mse_loss(pred: torch.Tensor, target: torch.Tensor):
    r"""Mean squared error over every element (Keras ``mse`` averaged over the batch).

        L = (1/K) Σ_k (pred_k − target_k)²,    ∂L/∂pred = 2 (pred − target) / K,

    K = pred.numel().  Returns ``(loss, dpred)``.
    """
    if pred.shape != target.shape:
        raise ValueError(
            f"mse_loss expects pred and target of the same shape; got {tuple(pred.shape)} and "
            f"{tuple(target.shape)}. Reshape the target (e.g. y[:, None] for one output unit)."
        )
    diff = pred - target.to(pred.dtype)  # (...)
    k = diff.numel()
    loss = (diff * diff).sum() / k  # ()
    dpred = 2 * diff / k  # (...)
    return loss, dpred


def svm_loss(scores: torch.Tensor, labels: torch.Tensor, *, margin: float = 1.0):
    r"""Multiclass SVM (hinge) loss as in CS231n, averaged over the batch.

    With scores s (N, C), correct class y_n and margin Δ:

        L = (1/N) Σ_n Σ_{j ≠ y_n} max(0, s_nj − s_{n,y_n} + Δ).

    Gradient, with active margins a_nj = 1[s_nj − s_{n,y_n} + Δ > 0] (j ≠ y_n):

        ∂L/∂s_nj = a_nj / N (j ≠ y_n),      ∂L/∂s_{n,y_n} = −(Σ_{j≠y_n} a_nj) / N.

    A margin exactly at 0 is a kink; we use the sub-gradient 0 there.
    ``labels``: integer class indices (N,).  Returns ``(loss, dscores)``.
    """
    _check_2d("svm_loss", scores)
    if labels.dim() != 1 or labels.is_floating_point():
        raise ValueError(
            f"svm_loss expects integer labels of shape ({scores.shape[0]},); got {labels.dtype} {tuple(labels.shape)}. "
            "For one-hot targets pass labels.argmax(1)."
        )
    n = scores.shape[0]
    rows = torch.arange(n, device=scores.device)
    y = labels.long()
    correct = scores[rows, y].unsqueeze(1)  # (N, 1)
    margins = scores - correct + margin  # (N, C)
    margins[rows, y] = 0  # the correct class contributes nothing
    active = (margins > 0).to(scores.dtype)  # (N, C)
    loss = (margins * active).sum() / n  # ()
    dscores = active.clone()  # (N, C)
    dscores[rows, y] = -active.sum(dim=1)
    dscores = dscores / n  # (N, C)
    return loss, dscores


def hinge_loss(pred: torch.Tensor, target: torch.Tensor):
    r"""Keras' ``hinge`` loss, averaged over every element.

        t = 2·target − 1 if every target is 0 or 1, else t = target  (targets in {−1, +1}),
        L = (1/K) Σ_k max(0, 1 − t_k · pred_k),
        ∂L/∂pred_k = −t_k · 1[1 − t_k · pred_k > 0] / K,

    K = pred.numel() (Keras averages the last axis, then the batch: the same number).
    Returns ``(loss, dpred)``.
    """
    if pred.shape != target.shape:
        raise ValueError(
            f"hinge_loss expects pred and target of the same shape; got {tuple(pred.shape)} and {tuple(target.shape)}."
        )
    t = target.to(pred.dtype)  # (...)
    if bool(((t == 0) | (t == 1)).all()):
        t = 2 * t - 1  # 0/1 labels -> -1/+1, as Keras does
    m = 1 - t * pred  # (...)
    active = (m > 0).to(pred.dtype)  # (...)
    k = pred.numel()
    loss = (m * active).sum() / k  # ()
    dpred = -t * active / k  # (...)
    return loss, dpred
