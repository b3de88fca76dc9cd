"""Each process trains on its own shard of the data: `DistributedSampler`'s rule, on index tensors.

The data stays one in-memory tensor (the fast path of `course.data`); what is sharded is the list
of indices. Per epoch every process draws the SAME permutation (seed + epoch), pads it to a
multiple of the world size W (repeating its start) or cuts the tail (`drop_last`), and keeps every
W-th index from its rank on:

    order  = randperm(N, seed + epoch)               same on every process
    order  = pad(order) to T = W·ceil(N/W)           or cut to W·floor(N/W) with drop_last
    shard  = order[rank : T : W]                     T/W indices each, disjoint

Local batch i of every rank, put together, is exactly global batch i of one process walking
`order` with batch size B = W·b (b the per-process batch):
order[rank + W·k] for k in [i·b, (i+1)·b) and rank in [0, W) is order[i·B : (i+1)·B].
That is why a data-parallel run with global batch B takes the same steps as one process with B.
"""
from __future__ import annotations

import math

import torch

from course.data.batches import index_batches

__all__ = ["shard_indices", "local_batch_size", "ShardedBatches"]


def shard_indices(n: int, rank: int, world_size: int, *, epoch: int = 0, seed: int = 0, shuffle: bool = True,
                  drop_last: bool = False) -> torch.Tensor:
    """The indices (int64, CPU) process `rank` of `world_size` reads in `epoch`, as
    `torch.utils.data.DistributedSampler(range(n), world_size, rank, shuffle, seed, drop_last)`
    yields them after `set_epoch(epoch)`."""
    if not 0 <= rank < world_size:
        raise ValueError(f"shard_indices: expected 0 <= rank < world_size; got rank={rank}, world_size={world_size}.")
    if n < 1:
        raise ValueError(f"shard_indices: the data set is empty (n={n}); nothing to shard.")
    if shuffle:
        g = torch.Generator().manual_seed(seed + epoch)
        order = torch.randperm(n, generator=g)                                       # (N,)
    else:
        order = torch.arange(n)                                                      # (N,)
    if drop_last and n >= world_size:
        total = (n // world_size) * world_size
        order = order[:total]                                                        # (T,)
    else:
        total = math.ceil(n / world_size) * world_size
        reps = math.ceil(total / n)
        order = order.repeat(reps)[:total] if reps > 1 else torch.cat([order, order[:total - n]])   # (T,)
    return order[rank:total:world_size]                                              # (T/W,)


def local_batch_size(global_batch_size: int, world_size: int) -> int:
    """b = B / W; the global batch must split evenly, or the processes would weigh their samples
    differently when their gradients are averaged."""
    if global_batch_size % world_size:
        lo = (global_batch_size // world_size) * world_size
        raise ValueError(f"The global batch size {global_batch_size} does not split evenly over {world_size} "
                         f"processes; use a multiple of {world_size} (e.g. {max(lo, world_size)} or "
                         f"{lo + world_size}).")
    return global_batch_size // world_size


class ShardedBatches:
    """This process's batches of one epoch: `(x[idx], y[idx])` for successive slices of its shard.

    `x`, `y` are whole-data-set tensors (already on the device); uint8 images become float32 in
    [0, 1]. Call `set_epoch(e)` before each epoch, as with DistributedSampler.
    """

    def __init__(self, x, y, batch_size: int, *, rank: int = 0, world_size: int = 1, seed: int = 0,
                 shuffle: bool = True, drop_last: bool = False):
        if len(x) != len(y):
            raise ValueError(f"x and y must have the same length; got {len(x)} and {len(y)}.")
        self.x, self.y = x, y
        self.batch_size = local_batch_size(batch_size, world_size)       # per process
        self.rank, self.world_size, self.seed = rank, world_size, seed
        self.shuffle, self.drop_last = shuffle, drop_last
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def indices(self) -> torch.Tensor:
        return shard_indices(len(self.x), self.rank, self.world_size, epoch=self.epoch, seed=self.seed,
                             shuffle=self.shuffle, drop_last=self.drop_last)

    def __len__(self):
        return math.ceil(len(self.indices()) / self.batch_size)

    def __iter__(self):
        idx = self.indices().to(self.x.device)                           # (T/W,)
        for xb, yb in index_batches((self.x, self.y), self.batch_size, order=idx):   # (b, ...), (b, ...)
            if xb.dtype == torch.uint8:
                xb = xb.to(torch.float32).div_(255.0)
            yield xb, yb
