"""Transformations over groups of elements: padded_batch, window, flat_map, scan, group_by_window,
interleave.

They run per element (Python over the input's elements), in TF's order and with TF's shapes:
`padded_batch` pads each component to the longest in the batch (or to `padded_shapes`);
`window` yields datasets of consecutive elements (one per component for tuple elements) that
`flat_map` flattens back; `scan` threads a state; `group_by_window` batches by key.
"""
import itertools
import os

import numpy as np
import torch

from course.framework import nest
from course.tape.data import structure
from course.tape.data.dataset import AUTOTUNE, INFINITE, UNKNOWN, Dataset, DatasetSpec, register
from course.tape.data.transforms import _Unary
from course.tape.string_tensor import StringTensor
from course.tape.tensor import to_numpy, to_tensor, wrap

__all__ = ["_PaddedBatchDataset", "_WindowDataset", "_FlatMapDataset", "_ScanDataset", "_GroupByWindowDataset",
           "_InterleaveDataset", "bucket_by_sequence_length"]


def _up_to(element, value):
    """`value` (padded_shapes or padding_values) flattened as far as `element`'s structure goes:
    a shape such as [5] or [] stays one leaf."""
    if not nest.is_nested(element):
        return [value]
    if isinstance(element, dict):
        keys = sorted(element, key=nest._sort_key)
        return [x for k in keys for x in _up_to(element[k], value[k])]
    return [x for e, v in zip(element, value) for x in _up_to(e, v)]


def _pad_to(t, shape, value):
    """`t` padded at the end of each axis up to `shape`."""
    if isinstance(t, StringTensor):
        out = np.full(shape, value if value is not None else b"", dtype=object)
        out[tuple(slice(0, d) for d in t._array.shape)] = t._array
        return StringTensor(out)
    fill = 0 if value is None else (to_numpy(value).item() if isinstance(value, torch.Tensor) else value)
    out = torch.full(shape, fill, dtype=t.dtype, device=t.device)
    out[tuple(slice(0, d) for d in t.shape)] = t
    return out


class _PaddedBatchDataset(_Unary):
    def __init__(self, input_dataset, batch_size, padded_shapes, padding_values, drop_remainder):
        super().__init__(input_dataset)
        self._size, self._drop = int(batch_size), bool(drop_remainder)
        if self._size < 1:
            raise ValueError(f"batch_size must be >= 1; got {batch_size}.")
        self._shapes, self._values = padded_shapes, padding_values
        self._batched = True

    def _cardinality(self):
        n = self._input._cardinality()
        return n if n < 0 else (n // self._size if self._drop else -(-n // self._size))

    def _fixed_batch(self):
        return self._drop

    def _component(self, parts, shape, value):
        ranks = {p.dim() for p in parts}
        if len(ranks) > 1:
            raise ValueError(f"padded_batch: every element of a component must have the same rank; got ranks "
                             f"{sorted(ranks)}.")
        widest = [max(int(p.shape[a]) for p in parts) for a in range(parts[0].dim())]
        if shape is not None:
            dims = [None if d is None else int(d) for d in (shape.as_list() if hasattr(shape, "as_list")
                                                            else list(shape))]
            for a, d in enumerate(dims):
                if d is not None and d >= 0:
                    if widest[a] > d:
                        raise ValueError(f"padded_batch: an element has {widest[a]} values on axis {a}, more than "
                                         f"padded_shapes allows ({d}).")
                    widest[a] = d
        padded = [_pad_to(p, tuple(widest), value) for p in parts]
        return structure.stack([p for p in padded])

    def _iter_generic(self):
        it = self._input._iter_elements()
        while True:
            group = list(itertools.islice(it, self._size))
            if not group or (self._drop and len(group) < self._size):
                return
            flat = [nest.flatten(e) for e in group]
            n = len(flat[0])
            shapes = _up_to(group[0], self._shapes) if self._shapes is not None else [None] * n
            values = _up_to(group[0], self._values) if self._values is not None else [None] * n
            out = [self._component([f[k] for f in flat], shapes[k], values[k]) for k in range(n)]
            yield nest.pack_sequence_as(group[0], out)

    def _spec_shape(self, shape, index):
        padded = [None] * (len(shape) - 1)
        if self._shapes is not None:
            want = _up_to(self._structure(), self._shapes)[index]
            want = want.as_list() if hasattr(want, "as_list") else list(want)
            padded = [None if d is None or int(d) < 0 else int(d) for d in want]
        return [self._size if self._drop else None] + padded

    def _structure(self):
        return next(iter(self._input._iter_elements()))


class _WindowDataset(_Unary):
    """Elements are datasets of `size` consecutive elements, starting every `shift` elements."""

    def __init__(self, input_dataset, size, shift, stride, drop_remainder):
        super().__init__(input_dataset)
        self._size = int(size)
        self._shift = self._size if shift is None else int(shift)
        self._stride, self._drop = int(stride), bool(drop_remainder)
        if min(self._size, self._shift, self._stride) < 1:
            raise ValueError("window size, shift and stride must be positive.")

    def _cardinality(self):
        n = self._input._cardinality()
        if n < 0:
            return n
        span = (self._size - 1) * self._stride + 1
        return max(0, (n - span) // self._shift + 1) if self._drop else -(-n // self._shift)

    def _iter_generic(self):
        span = (self._size - 1) * self._stride + 1
        buffer = []
        it = self._input._iter_elements()
        exhausted = False
        while True:
            while not exhausted and len(buffer) < span:
                nxt = next(it, None)
                if nxt is None:
                    exhausted = True
                else:
                    buffer.append(nxt)
            window = buffer[::self._stride][:self._size]
            if not window or (self._drop and len(window) < self._size):
                return
            yield _window_of(window)
            skip = self._shift - len(buffer)               # a shift longer than the window: skip those too
            del buffer[:self._shift]
            for _ in range(max(skip, 0)):
                if next(it, None) is None:
                    exhausted = True
                    break
            if exhausted and not buffer:
                return

    @property
    def element_spec(self):
        inner = self._input.element_spec
        return nest.map_structure(lambda s: DatasetSpec(s), inner)


def _window_of(elements):
    """A window: for each component, a dataset of that component's values."""
    flat = [nest.flatten(e) for e in elements]
    parts = [_ListDataset([f[k] for f in flat]) for k in range(len(flat[0]))]
    return nest.pack_sequence_as(elements[0], parts)


class _ListDataset(Dataset):
    """The elements of one window or group, as they are (they may differ in shape)."""

    _tf_name = "_VariantDataset"

    def __init__(self, elements):
        self._elements = list(elements)

    def _iter_generic(self):
        return iter(self._elements)

    def _cardinality(self):
        return len(self._elements)


class _Nested(_Unary):
    """A transformation whose elements come from inner datasets: their static shapes are the inner ones'."""

    _inner = None
    _spec_rule = None            # bucket_by_sequence_length: its own rule (buckets differ in their shapes)

    def _spec_shape(self, shape, index):
        if self._spec_rule is not None:
            return self._spec_rule(shape, index)
        if self._inner is not None:
            return self._inner._spec_shape(shape, index)
        return super()._spec_shape(shape, index)


class _FlatMapDataset(_Nested):
    def __init__(self, input_dataset, map_func):
        super().__init__(input_dataset)
        self._fn = map_func
        self._batched = False

    def _cardinality(self):
        return UNKNOWN if self._input._cardinality() != INFINITE else INFINITE

    def _iter_generic(self):
        for element in self._input._iter_elements():
            inner = structure.call(self._fn, element)
            if not isinstance(inner, Dataset):
                raise TypeError(f"flat_map's function must return a tf.data.Dataset; it returned "
                                f"{type(inner).__name__}. Wrap values with Dataset.from_tensor_slices.")
            self._batched, self._inner = inner._batched, inner
            yield from inner._iter_elements()


class _ScanDataset(_Unary):
    def __init__(self, input_dataset, initial_state, scan_func):
        super().__init__(input_dataset)
        self._initial, self._fn = structure.normalize(initial_state), scan_func

    def _iter_generic(self):
        state = self._initial
        for element in self._input._iter_elements():
            eager_state = nest.map_structure(wrap, state)
            args = element if isinstance(element, tuple) else (element,)
            result = self._fn(eager_state, *nest.map_structure(wrap, args))
            if not isinstance(result, (tuple, list)) or len(result) != 2:
                raise TypeError("scan_func must return a pair (new_state, output_element).")
            new_state, out = result
            state = structure.normalize(tuple(new_state) if isinstance(new_state, list) else new_state)
            yield structure.fn_output(out)


class _GroupByWindowDataset(_Nested):
    def __init__(self, input_dataset, key_func, reduce_func, window_size=None, window_size_func=None):
        super().__init__(input_dataset)
        if (window_size is None) == (window_size_func is None):
            raise ValueError("group_by_window needs exactly one of window_size and window_size_func.")
        self._key, self._reduce = key_func, reduce_func
        self._size_of = (lambda key: int(window_size)) if window_size is not None else \
            (lambda key: int(to_numpy(window_size_func(wrap(to_tensor(key, torch.int64))))))
        self._batched = False

    def _cardinality(self):
        return UNKNOWN if self._input._cardinality() != INFINITE else INFINITE

    def _emit(self, key, elements):
        ds = _ListDataset(elements)
        out = self._reduce(wrap(to_tensor(key, torch.int64)), ds)
        self._batched, self._inner = out._batched, out
        yield from out._iter_elements()

    def _iter_generic(self):
        groups = {}
        for element in self._input._iter_elements():
            key = int(to_numpy(structure.call(self._key, element)))
            groups.setdefault(key, []).append(element)
            if len(groups[key]) == self._size_of(key):
                yield from self._emit(key, groups.pop(key))
        for key in sorted(groups):
            yield from self._emit(key, groups[key])


class _InterleaveDataset(_Nested):
    """`interleave`: `cycle_length` inner datasets open at once, `block_length` elements from each in turn
    (TF's order: a finished slot is refilled from the next input element when the cycle comes back)."""

    def __init__(self, input_dataset, map_func, cycle_length, block_length):
        super().__init__(input_dataset)
        self._fn, self._block = map_func, int(block_length)
        self._cycle = int(cycle_length) if cycle_length not in (None, AUTOTUNE) else (os.cpu_count() or 1)
        self._batched = False

    def _cardinality(self):
        return UNKNOWN if self._input._cardinality() != INFINITE else INFINITE

    def _iter_generic(self):
        inputs = self._input._iter_elements()
        slots, index, block, open_, end = [None] * self._cycle, 0, 0, 0, False
        while not end or open_ > 0:
            if slots[index] is not None:
                element = next(slots[index], None)
                if element is not None:
                    yield element
                    block += 1
                    if block == self._block:
                        index, block = (index + 1) % self._cycle, 0
                    continue
                slots[index], open_ = None, open_ - 1
                index, block = (index + 1) % self._cycle, 0
            elif not end:
                nxt = next(inputs, None)
                if nxt is None:
                    end = True
                    continue
                inner = structure.call(self._fn, nxt)
                if not isinstance(inner, Dataset):
                    raise TypeError(f"interleave's function must return a tf.data.Dataset; it returned "
                                    f"{type(inner).__name__}.")
                self._batched, self._inner = inner._batched, inner
                slots[index], open_ = inner._iter_elements(), open_ + 1
            else:
                index, block = (index + 1) % self._cycle, 0


def bucket_by_sequence_length(dataset, element_length_func, bucket_boundaries, bucket_batch_sizes,
                              padded_shapes=None, padding_values=None, pad_to_bucket_boundary=False,
                              no_padding=False, drop_remainder=False):
    """TF's recipe: bucket i holds lengths in [boundaries[i-1], boundaries[i]); each bucket is batched
    (padded to its longest, or to its boundary) by group_by_window."""
    bounds = [int(b) for b in bucket_boundaries]
    sizes = [int(b) for b in bucket_batch_sizes]
    if len(sizes) != len(bounds) + 1:
        raise ValueError(f"len(bucket_batch_sizes) must equal len(bucket_boundaries) + 1; got {len(sizes)} and "
                         f"{len(bounds)}.")

    def key(*element):
        n = int(to_numpy(element_length_func(*element)))
        return wrap(torch.tensor(sum(n >= b for b in bounds), dtype=torch.int64))

    def reduce(bucket, window):
        b = int(to_numpy(bucket))
        if no_padding:
            return window.batch(sizes[b], drop_remainder=drop_remainder)
        shapes = padded_shapes
        if pad_to_bucket_boundary:
            if b == len(bounds):
                raise ValueError("When pad_to_bucket_boundary=True, elements must have length < "
                                 "max(bucket_boundaries).")
            shapes = [bounds[b] - 1]
        return window.padded_batch(sizes[b], shapes, padding_values, drop_remainder=drop_remainder)

    out = _GroupByWindowDataset(dataset, key, reduce, window_size_func=lambda k: sizes[int(to_numpy(k))])
    same_size = drop_remainder and len(set(sizes)) == 1

    def rule(shape, index):
        batch = sizes[0] if same_size else None
        if no_padding:
            return [batch] + list(shape[1:])
        if padded_shapes is None or pad_to_bucket_boundary:
            return [batch] + [None] * (len(shape) - 1)
        want = _up_to(next(iter(dataset._iter_elements())), padded_shapes)[index]
        want = want.as_list() if hasattr(want, "as_list") else list(want)
        return [batch] + [None if d is None or int(d) < 0 else int(d) for d in want]
    out._spec_rule = rule
    return out


register(_PaddedBatchDataset, _WindowDataset, _FlatMapDataset, _ScanDataset, _GroupByWindowDataset,
         _InterleaveDataset, bucket_by_sequence_length)
