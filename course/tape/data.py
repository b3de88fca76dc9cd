"""`tf.data.Dataset` for eager training: lazy pipelines over in-memory tensors.

A dataset is a chain of transformations; iterating it yields elements (tensors, or tuples and
dicts of them) as EagerTensors. TensorFlow's semantics are kept -- `shuffle(buffer_size)` draws
from a buffer of that size and reshuffles on each pass, `batch` keeps a short last batch unless
`drop_remainder`, `map` applies its function per element, `repeat()` is endless, `cache()`
freezes the first pass -- while the common pipelines never run Python per element:

    Dataset.from_tensor_slices((x, y)).shuffle(...).batch(...).map(...).repeat().take(...)

Such a chain is an *index plan*: the source tensors live on the device, shuffle/repeat/take/skip
transform a stream of row indices (a buffer >= the data is one `randperm`; a smaller buffer runs
TF's buffer algorithm on integers), and `batch` gathers each batch with one indexing op. A
`map` before `batch` runs through `torch.func.vmap` on each gathered block, which is exactly
per-element semantics; a function vmap cannot run (random ops, Python branching on values) falls
back to a per-element loop. Other sources (`from_generator`, `filter`, ...) run per element.

For engines: `iter_batches(dataset)` (= `dataset._iter_plain()`) yields each element as plain
torch tensors in the element's structure, without the EagerTensor wrapping.
"""
import itertools
import math

import numpy as np
import torch

import course.device
from course.tape import nest
from course.tape.dtypes import as_torch_dtype
from course.tape.function import TensorSpec
from course.tape.random import draw_seed
from course.tape.tensor import as_plain, to_tensor, wrap

__all__ = ["Dataset", "AUTOTUNE", "INFINITE", "UNKNOWN", "iter_batches", "cardinality", "Options"]

AUTOTUNE = -1
INFINITE = -1        # tf.data.INFINITE_CARDINALITY
UNKNOWN = -2         # tf.data.UNKNOWN_CARDINALITY
_CHUNK = 4096        # rows gathered at once when iterating an unbatched plan


# --- structures --------------------------------------------------------------------------------
def _normalize(value):
    """Tuples and dicts stay structures; every leaf (lists included, as in tf.data) becomes a tensor."""
    if isinstance(value, dict):
        return type(value)((k, _normalize(v)) for k, v in value.items())
    if isinstance(value, tuple):
        items = [_normalize(v) for v in value]
        return type(value)(*items) if hasattr(type(value), "_fields") else tuple(items)
    if isinstance(value, torch.Tensor):
        return as_plain(value).detach()
    return to_tensor(value)


def _fn_output(value):
    """What a map function returned, as an element: lists become tuples, leaves become tensors."""
    if isinstance(value, list):
        value = tuple(value)
    return _normalize(value)


def _call(fn, element):
    """TF calls fn(*element) for a tuple element and fn(element) otherwise; inputs are EagerTensors."""
    eager = nest.map_structure(wrap, element)
    if isinstance(element, tuple) and not hasattr(type(element), "_fields"):
        return fn(*eager)
    return fn(eager)


def _row(block, i):
    return nest.map_structure(lambda t: t[i], block)


def _rows(block):
    n = nest.flatten(block)[0].shape[0]
    return (_row(block, i) for i in range(n))


def _stack(elements):
    first = elements[0]
    flat = [nest.flatten(e) for e in elements]
    out = []
    for k in range(len(flat[0])):
        parts = [f[k] for f in flat]
        shapes = {tuple(p.shape) for p in parts}
        if len(shapes) > 1:
            raise ValueError(f"Cannot batch tensors with different shapes in component {k}: got shapes "
                             f"{sorted(shapes)[:4]}. Make every element the same shape (e.g. resize or pad in map).")
        out.append(torch.stack(parts))
    return nest.pack_sequence_as(first, out)


def _num_rows(block):
    return nest.flatten(block)[0].shape[0]


# --- index plans -------------------------------------------------------------------------------
class _Plan:
    """Source columns (packed in `structure`), a stream of index chunks, and maps to apply after gathering."""

    def __init__(self, source, stream, maps=()):
        self.source = source            # structure of (N, ...) tensors on one device
        self.stream = stream            # () -> iterator of 1-D int64 index tensors on that device
        self.maps = tuple(maps)         # _MapDataset nodes, applied in order to gathered blocks

    def derive(self, stream=None, maps=None):
        return _Plan(self.source, stream or self.stream, self.maps if maps is None else maps)

    @property
    def device(self):
        return nest.flatten(self.source)[0].device

    def gather(self, idx):
        block = nest.map_structure(lambda c: c.index_select(0, idx), self.source)
        for node in self.maps:
            block = node._map_block(block)
        return block


def _rechunk(chunks, size, drop_remainder=False):
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


def _buffer_shuffle(items, buffer_size, seed):
    """TensorFlow's shuffle buffer over an iterable of python items: fill the buffer, then repeatedly emit a
    uniformly chosen item and put the next input in its place; at the end drain the buffer at random."""
    rng = np.random.default_rng(seed)
    draws, k = rng.random(_CHUNK), 0
    buf = []
    for item in items:
        if len(buf) < buffer_size:
            buf.append(item)
            continue
        if k == _CHUNK:
            draws, k = rng.random(_CHUNK), 0
        j = int(draws[k] * len(buf))
        k += 1
        out, buf[j] = buf[j], item
        yield out
    rng.shuffle(buf)                  # draining at random is a uniform permutation of what is left
    yield from buf


# --- the dataset -------------------------------------------------------------------------------
class Dataset:
    """Base class; build datasets with the static constructors (`from_tensor_slices`, ...)."""

    _batched = False                  # does an element hold a batch (a batch() with no unbatch() after it)?

    # ---- engine API ----
    def _plan(self):
        """An index plan for this dataset's elements, or None when it must run per element."""
        return None

    def _iter_generic(self):
        raise NotImplementedError

    def _iter_elements(self):
        """Elements as structures of plain tensors."""
        plan = self._plan()
        if plan is None:
            yield from self._iter_generic()
            return
        for idx in _rechunk(plan.stream(), _CHUNK):
            yield from _rows(plan.gather(idx))

    def _iter_plain(self):
        return self._iter_elements()

    def _cardinality(self):
        return UNKNOWN

    def _is_batched(self):
        return self._batched

    # ---- iteration and info ----
    def __iter__(self):
        return _Iterator(self)

    def as_numpy_iterator(self):
        for element in self._iter_elements():
            yield nest.map_structure(lambda t: wrap(t).numpy(), element)

    def cardinality(self):
        return wrap(torch.tensor(self._cardinality(), dtype=torch.int64))

    def __len__(self):
        n = self._cardinality()
        if n == INFINITE:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN:
            raise TypeError("The dataset length is unknown.")
        return n

    def __bool__(self):
        return True

    @property
    def element_spec(self):
        first = next(iter(self._iter_elements()), None)
        if first is None:
            return None
        return nest.map_structure(
            lambda t: TensorSpec([None if (self._batched and i == 0 and not self._fixed_batch()) else d
                                  for i, d in enumerate(t.shape)], t.dtype), first)

    def _fixed_batch(self):
        return False

    def __repr__(self):
        try:
            spec = self.element_spec
        except Exception:               # a broken map function must not break the repr
            spec = "?"
        return f"<{type(self).__name__} element_spec={spec}>"

    def reduce(self, initial_state, reduce_func, name=None):
        state = initial_state
        for element in self:
            state = reduce_func(state, element)
        return state

    def get_single_element(self, name=None):
        it = iter(self)
        first = next(it)
        if next(it, None) is not None:
            raise ValueError("Dataset had more than one element.")
        return first

    # ---- constructors ----
    @staticmethod
    def from_tensor_slices(tensors, name=None):
        """Elements are the rows (first-axis slices) of `tensors` (an array, a tuple or a dict of arrays)."""
        return _TensorSliceDataset(_normalize(tensors))

    @staticmethod
    def from_tensors(tensors, name=None):
        """One element: `tensors` itself."""
        return _TensorSliceDataset(nest.map_structure(lambda t: t.unsqueeze(0), _normalize(tensors)),
                                   name="_TensorDataset")

    @staticmethod
    def range(*args, output_type=torch.int64, name=None):
        """Like Python's range(start, stop, step), as int64 scalars."""
        r = range(*[int(a) for a in args])
        values = torch.arange(r.start, r.stop, r.step, dtype=as_torch_dtype(output_type))
        return _TensorSliceDataset(to_tensor(values), name="_RangeDataset")

    @staticmethod
    def from_generator(generator, output_types=None, output_shapes=None, args=None, output_signature=None,
                       name=None):
        """Elements are what `generator()` yields (called anew for each pass)."""
        return _GeneratorDataset(generator, output_types, output_signature, args)

    @staticmethod
    def zip(*datasets, name=None):
        if len(datasets) == 1 and isinstance(datasets[0], (tuple, list, dict)):
            datasets = datasets[0]
        return _ZipDataset(tuple(datasets) if isinstance(datasets, list) else datasets)

    # ---- transformations ----
    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None, name=None):
        """Randomly shuffle with a buffer of `buffer_size` elements (>= the dataset size: a full shuffle)."""
        return _ShuffleDataset(self, buffer_size, seed, reshuffle_each_iteration)

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None, deterministic=None, name=None):
        """Stack `batch_size` consecutive elements; the last batch is short unless `drop_remainder`."""
        return _BatchDataset(self, batch_size, drop_remainder)

    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """Apply `map_func` to each element (tuple elements are passed as separate arguments)."""
        return _MapDataset(self, map_func)

    def repeat(self, count=None, name=None):
        """Repeat the dataset `count` times (forever when None or -1), reshuffling each pass."""
        return _RepeatDataset(self, count)

    def take(self, count, name=None):
        return _TakeDataset(self, count)

    def skip(self, count, name=None):
        return _SkipDataset(self, count)

    def prefetch(self, buffer_size, name=None):
        """Accepted for compatibility; data already lives on the device, so there is nothing to prefetch."""
        return _PassThrough(self, "_PrefetchDataset")

    def cache(self, filename="", name=None):
        """Remember the first full pass and replay it (random maps and shuffles before cache are frozen)."""
        return _CacheDataset(self)

    def unbatch(self, name=None):
        return _UnbatchDataset(self)

    def filter(self, predicate, name=None):
        return _FilterDataset(self, predicate)

    def concatenate(self, dataset, name=None):
        return _ConcatenateDataset(self, dataset)

    def enumerate(self, start=0, name=None):
        return Dataset.zip((_CounterDataset(start), self))

    def shard(self, num_shards, index, name=None):
        return _ShardDataset(self, int(num_shards), int(index))

    def apply(self, transformation_func):
        return transformation_func(self)

    def with_options(self, options, name=None):
        return self

    def options(self):
        return Options()


class Options:
    """`tf.data.Options`: accepted and ignored (there are no threads or autotuning to configure)."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return Options()

    def __setattr__(self, name, value):
        pass


class _Iterator:
    """What `iter(dataset)` returns: `next()` and TF's `get_next()`."""

    def __init__(self, dataset):
        self._elements = dataset._iter_elements()

    def __iter__(self):
        return self

    def __next__(self):
        return nest.map_structure(wrap, next(self._elements))

    def get_next(self):
        try:
            return next(self)
        except StopIteration:
            from course.tape.errors import OutOfRangeError
            raise OutOfRangeError("End of sequence") from None

    def get_next_as_optional(self):
        return next(self, None)


def iter_batches(dataset):
    """Iterate `dataset`'s elements as structures of plain torch tensors (for engines such as Keras' fit)."""
    return dataset._iter_plain()


def cardinality(dataset):
    return dataset.cardinality()


# --- sources ---------------------------------------------------------------------------------------
class _TensorSliceDataset(Dataset):
    def __init__(self, tensors, name="_TensorSliceDataset"):
        leaves = nest.flatten(tensors)
        for t in leaves:
            if t.dim() == 0:
                raise ValueError(f"from_tensor_slices needs tensors of rank >= 1 (it slices the first axis); got a "
                                 f"scalar {wrap(t)!r}. Use Dataset.from_tensors for a single element.")
        sizes = {t.shape[0] for t in leaves}
        if len(sizes) > 1:
            raise ValueError(f"Dimensions {' and '.join(str(t.shape[0]) for t in leaves)} are not compatible: every "
                             f"component of from_tensor_slices must have the same first dimension; got shapes "
                             f"{[tuple(t.shape) for t in leaves]}.")
        device = course.device.get()                 # the whole source lives where the model computes
        self._tensors = nest.map_structure(lambda t: t.to(device), tensors)
        self._n = leaves[0].shape[0]
        self._name = name

    def __repr__(self):
        return super().__repr__().replace("_TensorSliceDataset", self._name, 1)

    def _plan(self):
        n, device = self._n, nest.flatten(self._tensors)[0].device
        return _Plan(self._tensors, lambda: iter([torch.arange(n, device=device)]))

    def _cardinality(self):
        return self._n


class _GeneratorDataset(Dataset):
    def __init__(self, generator, output_types, output_signature, args):
        self._generator, self._types, self._signature, self._args = generator, output_types, output_signature, args

    def _convert(self, value):
        spec = self._signature if self._signature is not None else self._types
        if spec is None:
            return _fn_output(value)
        if isinstance(value, list):
            value = tuple(value)
        specs, leaves = nest.flatten(spec), nest.flatten(value)
        out = [to_tensor(v, s.dtype if isinstance(s, TensorSpec) else s) for v, s in zip(leaves, specs)]
        return nest.pack_sequence_as(value, out)

    def _iter_generic(self):
        args = () if self._args is None else tuple(self._args)
        for value in self._generator(*args):
            yield self._convert(value)


class _CounterDataset(Dataset):
    def __init__(self, start=0):
        self._start = start

    def _iter_generic(self):
        for i in itertools.count(self._start):
            yield torch.tensor(i, dtype=torch.int64)

    def _cardinality(self):
        return INFINITE


# --- transformations ---------------------------------------------------------------------------------
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
            shuffled = _buffer_shuffle(items, self._buffer, seed)
            while True:
                block = list(itertools.islice(shuffled, _CHUNK))
                if not block:
                    return
                yield torch.tensor(block, dtype=torch.int64, device=device)
        return up.derive(stream=stream)

    def _iter_generic(self):
        seed = self._next_seed()
        size = self._buffer if self._buffer != AUTOTUNE else 2**62
        return _buffer_shuffle(self._input._iter_elements(), size, seed)

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
        return _fn_output(_call(self._fn, element))

    def _map_block(self, block):
        """Apply the function to each row of `block`: with vmap when it can, else row by row."""
        if _num_rows(block) == 0:
            return block
        if self._vectorised is not False:
            try:
                out = torch.func.vmap(self._map_one, randomness="error")(block)
                self._vectorised = True
                return out
            except Exception:
                if self._vectorised:        # worked before: this is a genuine error of the function
                    raise
                self._vectorised = False
        return _stack([self._map_one(row) for row in _rows(block)])

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
        for idx in _rechunk(plan.stream(), self._size, self._drop):
            yield plan.gather(idx)

    def _iter_generic(self):
        it = self._input._iter_elements()
        while True:
            group = list(itertools.islice(it, self._size))
            if not group or (self._drop and len(group) < self._size):
                return
            yield _stack(group)


class _UnbatchDataset(_Unary):
    def __init__(self, input_dataset):
        super().__init__(input_dataset)
        self._batched = False

    def _cardinality(self):
        return UNKNOWN if self._input._cardinality() != INFINITE else INFINITE

    def _iter_generic(self):
        for block in self._input._iter_elements():
            yield from _rows(block)


class _FilterDataset(_Unary):
    def __init__(self, input_dataset, predicate):
        super().__init__(input_dataset)
        self._predicate = predicate

    def _cardinality(self):
        return UNKNOWN if self._input._cardinality() != INFINITE else INFINITE

    def _iter_generic(self):
        for element in self._input._iter_elements():
            keep = _call(self._predicate, element)
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
                blocks = [up.gather(idx) for idx in _rechunk(up.stream(), _CHUNK)]
                if blocks:
                    columns = [torch.cat(parts) for parts in zip(*[nest.flatten(b) for b in blocks])]
                    self._cached = _TensorSliceDataset(nest.pack_sequence_as(blocks[0], columns))
                else:
                    self._cached = []
                return self._cached
            elements = list(self._input._iter_elements())
            try:
                self._cached = _TensorSliceDataset(_stack(elements)) if elements and not self._batched else elements
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
