"""Knowledge distillation: a small student learns from a big teacher's softened outputs.

A trained teacher's probabilities say more than the label: that a "7" looks a bit like a "1" and
not at all like a "6". Softening them with a temperature T > 1 brings those small probabilities
out. With teacher logits z_t, student logits z_s and the true label y (Hinton et al., 2015):

    p_t = softmax(z_t / T),  p_s = softmax(z_s / T)
    L   = α · T² · KL(p_t ‖ p_s) + (1 - α) · CE(y, softmax(z_s))
    KL(p_t ‖ p_s) = Σ_k p_t,k (log p_t,k - log p_s,k)

The T² keeps the soft term's gradients the same size as T changes (they scale as 1/T²). α = 0 is
ordinary training on the labels alone -- the baseline distillation is compared with.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from course.framework.convert import as_plain

__all__ = ["distillation_loss", "logits_of", "distill"]


def distillation_loss(student_logits, teacher_logits, y, *, temperature: float = 4.0, alpha: float = 0.9):
    """α·T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)) + (1-α)·CE(y, z_s), averaged over the batch.

    student_logits, teacher_logits: (N, K); y: (N,) integer labels.
    """
    T = float(temperature)
    if T <= 0 or not 0.0 <= alpha <= 1.0:
        raise ValueError(f"distillation_loss expects temperature > 0 and alpha in [0, 1]; got {temperature}, {alpha}.")
    z_s, z_t = student_logits, teacher_logits.detach()                         # (N, K)
    hard = F.cross_entropy(z_s, y.long())                                       # CE(y, z_s)
    if alpha == 0.0:
        return hard
    log_p_s = F.log_softmax(z_s / T, dim=-1)                                    # (N, K)
    log_p_t = F.log_softmax(z_t / T, dim=-1)                                    # (N, K)
    kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum(dim=-1).mean()              # KL(p_t ‖ p_s)
    return alpha * T * T * kl + (1.0 - alpha) * hard


def logits_of(model, x, *, batch_size: int = 1000) -> torch.Tensor:
    """The logits behind `model`'s outputs on x (inference mode), batch by batch.

    A Keras model ending in softmax keeps the logits that produced its probabilities; for any
    other model ending in a softmax, log p differs from the logits by a per-row constant, which
    softmax(z / T) ignores, so log p serves as well.
    """
    from course.export import inference_module
    module = inference_module(model)
    device = next(model.parameters()).device
    parts = []
    with torch.no_grad():
        for lo in range(0, len(x), batch_size):
            out = module(x[lo:lo + batch_size].to(device))                    # (b, K)
            logits = getattr(out, "_keras_logits", None)
            if logits is None:
                out = as_plain(out)
                is_prob = bool(((out >= 0) & (out <= 1)).all()) and torch.allclose(
                    out.sum(-1), torch.ones(len(out), device=out.device), atol=1e-4)
                logits = out.clamp_min(1e-30).log() if is_prob else out
            parts.append(as_plain(logits).float())
    return torch.cat(parts)                                                    # (N, K)


def distill(student, x, y, *, teacher_logits=None, epochs: int = 3, batch_size: int = 128,
            temperature: float = 4.0, alpha: float = 0.9, learning_rate: float = 1e-3, seed: int = 0) -> list[float]:
    """Train `student` (a module returning logits) on (x, y) with the distillation loss against
    precomputed `teacher_logits` (N, K) (`logits_of(teacher, x)`); without them, or with
    alpha=0, on the labels alone. Adam (torch.optim), shuffled batches. Returns the loss per epoch."""
    if teacher_logits is None and alpha > 0:
        raise ValueError("distill(alpha > 0) needs teacher_logits=logits_of(teacher, x); pass alpha=0 to train on "
                         "the labels alone.")
    from course.export import training_module
    device = next(student.parameters()).device
    x, y = x.to(device), y.to(device)
    zt = None if teacher_logits is None else teacher_logits.to(device)
    params = [p for p in student.parameters() if p.requires_grad]
    # Adam updates plain aliases of the weights (same storage): no subclass dispatch per update.
    plain = [as_plain(p.detach()) for p in params]
    opt = torch.optim.Adam(plain, lr=learning_rate)
    forward = training_module(student)
    g = torch.Generator().manual_seed(seed)
    history = []
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=g).to(device)
        total = 0.0
        for lo in range(0, len(x), batch_size):
            idx = order[lo:lo + batch_size]
            z_s = as_plain(forward(x[idx]))                                         # (b, K)
            loss = distillation_loss(z_s, zt[idx] if zt is not None else z_s, y[idx], temperature=temperature,
                                     alpha=alpha if zt is not None else 0.0)
            loss.backward()
            for p, q in zip(params, plain):
                q.grad, p.grad = p.grad, None
            opt.step()
            total += float(loss.detach()) * len(idx)
        history.append(total / len(x))
    student.eval()
    return history
