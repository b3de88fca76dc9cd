"""Magnitude pruning with `torch.nn.utils.prune`: zero the weights that matter least.

The smallest weights in absolute value contribute least to the outputs, so set them to zero:
with all prunable weights w pooled together ("global" pruning) and a fraction p to remove,

    τ = the p-quantile of |w| over all kernels         threshold
    mask = |w| > τ                                      1 keeps, 0 prunes
    w ← w ⊙ mask

`torch.nn.utils.prune.global_unstructured(..., pruning_method=L1Unstructured, amount=p)` finds
τ and the masks; `prune.remove` makes the zeros permanent. Zeros alone do not shrink a dense
file or speed up a dense matmul: they pay off once stored compressed (see `measure.file_size`'s
zipped size) or run by sparse kernels. Accuracy usually survives 50-80% pruning of an MNIST
network; beyond that, fine-tune with the masks held fixed (`KeepPruned`).

Prunable weights: the `kernel` of course.keras Dense and Conv2D layers, the `weight` of
PyTorch's nn.Linear and nn.Conv2d. Biases are left alone (few, and they matter).
"""
from __future__ import annotations

import torch
from torch.nn.utils import prune as torch_prune

from course.framework.convert import as_plain
from course.keras.callback import Callback

__all__ = ["prunable", "magnitude_prune", "sparsity", "apply_masks", "KeepPruned"]


def prunable(model) -> list[tuple[torch.nn.Module, str]]:
    """(module, parameter name) of every weight matrix / kernel that pruning may touch."""
    from course.keras import layers as L
    found = []
    for mod in model.modules():
        if isinstance(mod, (L.Dense, L.Conv2D)) and getattr(mod, "kernel", None) is not None:
            found.append((mod, "kernel"))
        elif isinstance(mod, (torch.nn.Linear, torch.nn.Conv2d)):
            found.append((mod, "weight"))
    if not found:
        raise ValueError(f"No prunable weights in {type(model).__name__}: expected Dense/Conv2D (course.keras) or "
                         f"nn.Linear/nn.Conv2d layers.")
    return found


def _data(t):
    return as_plain(t, detach=True)


def magnitude_prune(model, amount: float, *, scope: str = "global") -> list[torch.Tensor]:
    """Zero the fraction `amount` of smallest-magnitude weights, in place; returns the masks
    (1 = kept), one per `prunable(model)` entry.

    scope='global' ranks all kernels together (big layers give up more); 'layer' removes
    `amount` of each layer's weights.
    """
    if not 0.0 <= amount < 1.0:
        raise ValueError(f"magnitude_prune: amount is the fraction of weights to remove, in [0, 1); got {amount}.")
    if scope not in ("global", "layer"):
        raise ValueError(f"magnitude_prune: scope must be 'global' or 'layer'; got {scope!r}.")
    params = prunable(model)
    if scope == "global":
        torch_prune.global_unstructured(params, pruning_method=torch_prune.L1Unstructured, amount=amount)
    else:
        for mod, name in params:
            torch_prune.l1_unstructured(mod, name, amount=amount)
    masks = []
    for mod, name in params:
        masks.append(getattr(mod, name + "_mask").detach().clone())
        torch_prune.remove(mod, name)             # w_orig <- w_orig ⊙ mask, the parameter is w again
    return masks


def sparsity(model) -> float:
    """Fraction of exact zeros over the prunable weights."""
    params = prunable(model)
    zeros = sum(int((_data(getattr(m, n)) == 0).sum()) for m, n in params)
    total = sum(getattr(m, n).numel() for m, n in params)
    return zeros / total


def apply_masks(model, masks) -> None:
    """w ← w ⊙ mask for every prunable weight (after an optimizer step, to keep the zeros)."""
    with torch.no_grad():
        for (mod, name), mask in zip(prunable(model), masks):
            _data(getattr(mod, name)).mul_(mask.to(_data(getattr(mod, name)).device))


class KeepPruned(Callback):
    """A Keras callback that re-applies the masks after every training batch, so fine-tuning a
    pruned model (`model.fit(..., callbacks=[KeepPruned(masks)])`) keeps its zeros."""

    def __init__(self, masks):
        super().__init__()
        self.masks = masks

    def on_train_batch_end(self, batch, logs=None):
        apply_masks(self.model, self.masks)
