"""Index plans: in-memory sources, a stream of row indices, and the maps to run on gathered blocks.

shuffle/repeat/take/skip transform the index stream; batch gathers each batch with one
`index_select`; maps run on gathered blocks (see transforms.MapDataset).
"""
import numpy as np
import torch

from course.framework import nest

__all__ = ["Plan", "rechunk", "buffer_shuffle", "CHUNK"]

CHUNK = 4096        # rows gathered at once when iterating an unbatched plan


class Plan:
    """Source columns (packed in `structure`), a stream of index chunks, and maps to apply after gathering."""

    def __init__(self, source, stream, maps=()):
        self.source = source            # structure of (N, ...) tensors on one device
        self.stream = stream            # () -> iterator of 1-D int64 index tensors on that device
        self.maps = tuple(maps)         # _MapDataset nodes, applied in order to gathered blocks

    def derive(self, stream=None, maps=None):
        return Plan(self.source, stream or self.stream, self.maps if maps is None else maps)

    @property
    def device(self):
        return nest.flatten(self.source)[0].device

    def gather(self, idx):
        block = nest.map_structure(lambda c: c.index_select(0, idx), self.source)
        for node in self.maps:
            block = node._map_block(block)
        return block


def rechunk(chunks, size, drop_remainder=False):
    """Index chunks of any sizes -> chunks of exactly `size` (the last may be short unless dropped)."""
    pending, have = [], 0
    for c in chunks:
        while c.numel():
            take = min(size - have, c.numel())
            pending.append(c[:take])
            have += take
            c = c[take:]
            if have == size:
                yield pending[0] if len(pending) == 1 else torch.cat(pending)
                pending, have = [], 0
    if have and not drop_remainder:
        yield pending[0] if len(pending) == 1 else torch.cat(pending)


def buffer_shuffle(items, buffer_size, seed):
    """TensorFlow's shuffle buffer over an iterable of python items: fill the buffer, then repeatedly emit a
    uniformly chosen item and put the next input in its place; at the end drain the buffer at random."""
    rng = np.random.default_rng(seed)
    draws, k = rng.random(CHUNK), 0
    buf = []
    for item in items:
        if len(buf) < buffer_size:
            buf.append(item)
            continue
        if k == CHUNK:
            draws, k = rng.random(CHUNK), 0
        j = int(draws[k] * len(buf))
        k += 1
        out, buf[j] = buf[j], item
        yield out
    rng.shuffle(buf)                  # draining at random is a uniform permutation of what is left
    yield from buf
