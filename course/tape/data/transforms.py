"""The transformations: each wraps its input and offers an index plan when it can, else a per-element path."""
import itertools
import math

import torch

from course.framework import nest
from course.tape.data import plans, structure
from course.tape.data.dataset import INFINITE, UNKNOWN, AUTOTUNE, Dataset, _TensorSliceDataset, register
from course.tape.random import draw_seed
from course.framework.convert import as_plain


class _Unary(Dataset):
    def __init__(self, input_dataset):
        self._input = input_dataset
        self._batched = input_dataset._batched

    def _cardinality(self):
        return self._input._cardinality()


class _PassThrough(_Unary):
    def __init__(self, input_dataset, name):
        super().__init__(input_dataset)
        self._name = name

    def _plan(self):
        return self._input._plan()

    def _iter_generic(self):
        return self._input._iter_elements()

    def _fixed_batch(self):
        return self._input._fixed_batch()


class _ShuffleDataset(_Unary):
    def __init__(self, input_dataset, buffer_size, seed, reshuffle_each_iteration):
        super().__init__(input_dataset)
        self._buffer = int(buffer_size)
        if self._buffer < 1 and self._buffer != AUTOTUNE:
            raise ValueError(f"shuffle buffer_size must be >= 1; got {buffer_size}.")
        self._seed = draw_seed(seed)
        self._reshuffle = True if reshuffle_each_iteration is None else bool(reshuffle_each_iteration)
        self._epoch = 0

    def _next_seed(self):
        epoch = self._epoch
        if self._reshuffle:
            self._epoch += 1
        return (self._seed + 1_000_003 * epoch) % 2**63

    def _full(self):
        n = self._input._cardinality()
        return n >= 0 and (self._buffer >= n or self._buffer == AUTOTUNE)

    def _plan(self):
        up = self._input._plan()
        if up is None:
            return None
        device = up.device

        def stream():
            seed = self._next_seed()
            if self._full():
                idx = torch.cat(list(up.stream()))
                perm = torch.randperm(idx.numel(), generator=torch.Generator().manual_seed(seed))
                yield idx[perm.to(device)]
                return
            items = (i for chunk in up.stream() for i in chunk.tolist())
            shuffled = plans.buffer_shuffle(items, self._buffer, seed)
            while True:
                block = list(itertools.islice(shuffled, plans.CHUNK))
                if not block:
                    return
                yield torch.tensor(block, dtype=torch.int64, device=device)
        return up.derive(stream=stream)

    def _iter_generic(self):
        seed = self._next_seed()
        size = self._buffer if self._buffer != AUTOTUNE else 2**62
        return plans.buffer_shuffle(self._input._iter_elements(), size, seed)

    def _fixed_batch(self):
        return self._input._fixed_batch()


class _RepeatDataset(_Unary):
    def __init__(self, input_dataset, count):
        super().__init__(input_dataset)
        self._count = -1 if count is None else int(count)

    def _cardinality(self):
        n = self._input._cardinality()
        if self._count == -1:
            return 0 if n == 0 else (INFINITE if n != UNKNOWN else UNKNOWN)
        return n * self._count if n >= 0 else n

    def _passes(self):
        return itertools.count() if self._count == -1 else range(self._count)

    def _plan(self):
        up = self._input._plan()
        if up is None:
            return None

        def stream():
            for _ in self._passes():
                produced = False
                for chunk in up.stream():
                    produced = produced or chunk.numel() > 0
                    yield chunk
                if not produced:
                    return
        return up.derive(stream=stream)

    def _iter_generic(self):
        for _ in self._passes():
            produced = False
            for element in self._input._iter_elements():
                produced = True
                yield element
            if not produced:
                return

    def _fixed_batch(self):
        return self._input._fixed_batch()


class _TakeDataset(_Unary):
    def __init__(self, input_dataset, count):
        super().__init__(input_dataset)
        self._count = int(count)

    def _cardinality(self):
        n = self._input._cardinality()
        if self._count == -1:
            return n
        if n == INFINITE:
            return self._count
        return min(n, self._count) if n >= 0 else UNKNOWN

    def _plan(self):
        up = self._input._plan()
        if up is None:
            return None
        if self._count == -1:
            return up

        def stream():
            left = self._count
            for chunk in up.stream():
                if left <= 0:
                    return
                yield chunk[:left]
                left -= chunk.numel()
        return up.derive(stream=stream)

    def _iter_generic(self):
        it = self._input._iter_elements()
        return it if self._count == -1 else itertools.islice(it, self._count)

    def _fixed_batch(self):
        return self._input._fixed_batch()


class _SkipDataset(_Unary):
    def __init__(self, input_dataset, count):
        super().__init__(input_dataset)
        self._count = int(count)

    def _cardinality(self):
        n = self._input._cardinality()
        if n < 0:
            return n
        return 0 if self._count == -1 else max(0, n - self._count)

    def _plan(self):
        up = self._input._plan()
        if up is None:
            return None

        def stream():
            if self._count == -1:
                return
            left = self._count
            for chunk in up.stream():
                if left >= chunk.numel():
                    left -= chunk.numel()
                    continue
                yield chunk[left:]
                left = 0
        return up.derive(stream=stream)

    def _iter_generic(self):
        if self._count == -1:
            return iter(())
        return itertools.islice(self._input._iter_elements(), self._count, None)

    def _fixed_batch(self):
        return self._input._fixed_batch()


class _ShardDataset(_Unary):
    def __init__(self, input_dataset, num_shards, index):
        super().__init__(input_dataset)
        if not 0 <= index < num_shards:
            raise ValueError(f"shard index must be in [0, num_shards); got index {index} of {num_shards}.")
        self._num, self._index = num_shards, index

    def _cardinality(self):
        n = self._input._cardinality()
        return n if n < 0 else (n - self._index + self._num - 1) // self._num

    def _iter_generic(self):
        return itertools.islice(self._input._iter_elements(), self._index, None, self._num)


class _MapDataset(_Unary):
    def __init__(self, input_dataset, map_func):
        super().__init__(input_dataset)
        self._fn = map_func
        self._vectorised = None             # None: not tried yet; True: vmap works; False: per element

    def _map_one(self, element):
        return structure.fn_output(structure.call(self._fn, element))

    def _map_block(self, block):
        """Apply the function to each row of `block`: with vmap when it can, else row by row."""
        if structure.num_rows(block) == 0:
            return block
        if isinstance(block, structure.RowList):
            return structure.RowList(self._map_one(row) for row in block)
        if self._vectorised is not False:
            try:
                out = torch.func.vmap(self._map_one, randomness="error")(block)
                self._vectorised = True
                return out
            except Exception:
                if self._vectorised:        # worked before: this is a genuine error of the function
                    raise
                self._vectorised = False
        outputs = [self._map_one(row) for row in structure.rows(block)]
        try:
            return structure.stack(outputs)
        except (ValueError, RuntimeError):
            return structure.RowList(outputs)     # rows of different shapes: padded_batch may still batch them

    def _plan(self):
        up = self._input._plan()
        if up is None or self._batched:
            return None                     # after batch(): the function sees whole batches, per element
        return up.derive(maps=up.maps + (self,))

    def _iter_generic(self):
        for element in self._input._iter_elements():
            yield self._map_one(element)

    def _fixed_batch(self):
        return self._input._fixed_batch()


class _BatchDataset(_Unary):
    def __init__(self, input_dataset, batch_size, drop_remainder):
        super().__init__(input_dataset)
        self._size = int(batch_size)
        if self._size < 1:
            raise ValueError(f"batch_size must be >= 1; got {batch_size}.")
        self._drop = bool(drop_remainder)
        self._batched = True

    def _cardinality(self):
        n = self._input._cardinality()
        if n < 0:
            return n
        return n // self._size if self._drop else math.ceil(n / self._size)

    def _fixed_batch(self):
        return self._drop

    def _iter_elements(self):
        plan = self._input._plan() if not self._input._batched else None
        if plan is None:
            yield from self._iter_generic()
            return
        for idx in plans.rechunk(plan.stream(), self._size, self._drop):
            block = plan.gather(idx)
            yield structure.stack(list(block)) if isinstance(block, structure.RowList) else block

    def _iter_generic(self):
        it = self._input._iter_elements()
        while True:
            group = list(itertools.islice(it, self._size))
            if not group or (self._drop and len(group) < self._size):
                return
            yield structure.stack(group)


class _UnbatchDataset(_Unary):
    def __init__(self, input_dataset):
        super().__init__(input_dataset)
        self._batched = False

    def _cardinality(self):
        return UNKNOWN if self._input._cardinality() != INFINITE else INFINITE

    def _iter_generic(self):
        for block in self._input._iter_elements():
            yield from structure.rows(block)


class _FilterDataset(_Unary):
    def __init__(self, input_dataset, predicate):
        super().__init__(input_dataset)
        self._predicate = predicate

    def _cardinality(self):
        return UNKNOWN if self._input._cardinality() != INFINITE else INFINITE

    def _iter_generic(self):
        for element in self._input._iter_elements():
            keep = structure.call(self._predicate, element)
            if bool(as_plain(keep) if isinstance(keep, torch.Tensor) else keep):
                yield element


class _CacheDataset(_Unary):
    """First pass: materialise every element (as stacked tensors when they stack); then replay them."""

    def __init__(self, input_dataset):
        super().__init__(input_dataset)
        self._cached = None                 # a _TensorSliceDataset, or a list of elements

    def _fill(self):
        if self._cached is None:
            if self._input._cardinality() == INFINITE:
                return None
            up = None if self._batched else self._input._plan()
            if up is not None:               # gather the first pass in large blocks
                blocks = [up.gather(idx) for idx in plans.rechunk(up.stream(), plans.CHUNK)]
                if any(isinstance(b, structure.RowList) for b in blocks):
                    self._cached = [r for b in blocks for r in structure.rows(b)]
                elif blocks:
                    columns = [torch.cat(parts) for parts in zip(*[nest.flatten(b) for b in blocks])]
                    self._cached = _TensorSliceDataset(nest.pack_sequence_as(blocks[0], columns))
                else:
                    self._cached = []
                return self._cached
            elements = list(self._input._iter_elements())
            try:
                self._cached = (_TensorSliceDataset(structure.stack(elements)) if elements and not self._batched
                                else elements)
            except (ValueError, RuntimeError):
                self._cached = elements
        return self._cached

    def _plan(self):
        cached = self._fill() if not self._batched else None
        return cached._plan() if isinstance(cached, _TensorSliceDataset) else None

    def _iter_generic(self):
        cached = self._fill()
        if cached is None:
            return self._input._iter_elements()
        return iter(cached) if isinstance(cached, list) else cached._iter_elements()

    def _fixed_batch(self):
        return self._input._fixed_batch()


class _ZipDataset(Dataset):
    def __init__(self, datasets):
        self._datasets = datasets
        self._batched = all(d._batched for d in nest.flatten(datasets))

    def _cardinality(self):
        ns = [d._cardinality() for d in nest.flatten(self._datasets)]
        finite = [n for n in ns if n >= 0]
        if finite:
            return min(finite)
        return UNKNOWN if UNKNOWN in ns else INFINITE

    def _iter_generic(self):
        flat = nest.flatten(self._datasets)
        for elements in zip(*[d._iter_elements() for d in flat]):
            yield nest.pack_sequence_as(self._datasets, list(elements))


class _ConcatenateDataset(Dataset):
    def __init__(self, first, second):
        self._first, self._second = first, second
        self._batched = first._batched

    def _cardinality(self):
        a, b = self._first._cardinality(), self._second._cardinality()
        if INFINITE in (a, b):
            return INFINITE
        return UNKNOWN if UNKNOWN in (a, b) else a + b

    def _iter_generic(self):
        yield from self._first._iter_elements()
        yield from self._second._iter_elements()


# Transformations that keep their input's element shapes (for element_spec), and TF's class names.
for _cls in (_PassThrough, _ShuffleDataset, _RepeatDataset, _TakeDataset, _SkipDataset, _ShardDataset,
             _FilterDataset, _CacheDataset):
    _cls._keeps_spec = True
_CacheDataset._tf_name = "CacheDataset"


register(_PassThrough, _ShuffleDataset, _RepeatDataset, _TakeDataset, _SkipDataset, _ShardDataset, _MapDataset,
         _BatchDataset, _UnbatchDataset, _FilterDataset, _CacheDataset, _ZipDataset, _ConcatenateDataset)
