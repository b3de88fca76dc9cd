"""The training fast path: the whole dataset is one tensor on the device, sliced per batch.

No per-sample Python work: an epoch is one seeded permutation, then `len(x) / batch_size` index
selections. Normalisation (uint8 -> float in [0, 1], optional mean/std) happens on the batch.
"""
import math

import torch

import course.device

__all__ = ["Batches", "batches", "index_batches"]


def index_batches(tensors, batch_size, *, order=None, steps=None):
    """Successive batches of equal-length (N, ...) tensors, one tuple per batch (None entries stay None).

    Without `order`, contiguous slices `t[lo:hi]`; with `order` (a permutation or any index tensor on
    the tensors' device), `t.index_select(0, order[lo:hi])` -- not `t[idx]`: advanced indexing with
    a slice of a long index tensor is ~100x slower on the CPU (it walks the whole index storage).
    `steps` stops early; by default every sample is used once (a last, smaller batch included).
    """
    n = len(order) if order is not None else len(next(t for t in tensors if t is not None))
    count = math.ceil(n / batch_size) if steps is None else steps
    for i in range(count):
        lo, hi = i * batch_size, min((i + 1) * batch_size, n)
        if order is None:
            yield tuple(None if t is None else t[lo:hi] for t in tensors)
        else:
            idx = order[lo:hi]
            yield tuple(None if t is None else t.index_select(0, idx) for t in tensors)


class Batches:
    """Iterable over `(x_batch, y_batch)` pairs; iterate again for the next epoch.

    x: (N, ...) tensor (uint8 images are scaled to float32 in [0, 1] per batch, then
    `(x - mean) / std` when given); y: (N, ...) or None. The data moves to `device` once.
    """

    def __init__(self, x, y=None, batch_size=32, *, shuffle=True, seed=0, device=None, drop_last=False,
                 scale=True, mean=None, std=None, dtype=torch.float32):
        if y is not None and len(x) != len(y):
            raise ValueError(f"x and y must have the same length; got {len(x)} and {len(y)}.")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1; got {batch_size}.")
        self.device = course.device.get(device)
        self.x = torch.as_tensor(x).to(self.device)
        self.y = None if y is None else torch.as_tensor(y).to(self.device)
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.scale, self.mean, self.std, self.dtype = scale, mean, std, dtype
        # The generator lives on the CPU so that the same seed gives the same order on any device.
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self):
        n = len(self.x) / self.batch_size
        return math.floor(n) if self.drop_last else math.ceil(n)

    def _prepare(self, xb):
        if xb.dtype == torch.uint8 and self.scale:
            xb = xb.to(self.dtype).div_(255.0)
        elif xb.is_floating_point() and xb.dtype != self.dtype:
            xb = xb.to(self.dtype)
        if self.mean is not None:
            xb = (xb - self.mean) / (self.std if self.std is not None else 1.0)
        return xb

    def __iter__(self):
        order = torch.randperm(len(self.x), generator=self.generator).to(self.device) if self.shuffle else None
        for xb, yb in index_batches((self.x, self.y), self.batch_size, order=order, steps=len(self)):
            yield (self._prepare(xb), yb) if self.y is not None else self._prepare(xb)


def batches(x, y=None, batch_size=32, **kwargs) -> Batches:
    """Shorthand for `Batches(x, y, batch_size, ...)`."""
    return Batches(x, y, batch_size, **kwargs)
