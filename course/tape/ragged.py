"""`tf.RaggedTensor` basics: rows of different lengths as flat values plus row splits.

A `RaggedTensor` here has one ragged dimension (TF's `ragged_rank=1`): `values` (a tensor, or a
string tensor) and `row_splits` (int64, `[0, len(row0), len(row0)+len(row1), ...]`), which is
exactly TF's encoding. It prints, converts (`to_tensor`, `to_list`, `numpy`), indexes by row and
reports its shape (`[nrows, None]`) as TF does; `+ - * /`, comparisons and negation with a scalar
or a same-shaped RaggedTensor work on the flat values, as does `tf.ragged.map_flat_values`. Deeper
nesting and ragged inputs to other ops (`tf.reduce_*`, `tf.concat`) are not supported; convert with
`to_tensor()` first.
"""
import numpy as np
import torch

from course.framework import dtypes
from course.framework.shapes import TensorShape
from course.tape.string_tensor import StringTensor, is_string_value
from course.tape.tensor import to_numpy, to_tensor, wrap

__all__ = ["RaggedTensor", "constant", "map_flat_values"]


class RaggedTensor:
    """Rows of different lengths (`tf.ragged.constant([[1, 2], [3]])`)."""

    def __init__(self, values, row_splits):
        self._values = values
        self._row_splits = np.asarray(row_splits, dtype=np.int64)

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def from_row_splits(cls, values, row_splits, name=None, validate=True):
        splits = to_numpy(row_splits) if isinstance(row_splits, torch.Tensor) else np.asarray(row_splits)
        if validate and (splits.ndim != 1 or len(splits) == 0 or splits[0] != 0 or np.any(np.diff(splits) < 0)):
            raise ValueError(f"row_splits must be a non-empty, non-decreasing vector starting at 0; got {splits}.")
        return cls(_as_values(values), splits)

    @classmethod
    def from_row_lengths(cls, values, row_lengths, name=None, validate=True):
        lengths = to_numpy(row_lengths) if isinstance(row_lengths, torch.Tensor) else np.asarray(row_lengths)
        return cls.from_row_splits(values, np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
                                   validate=validate)

    @classmethod
    def from_value_rowids(cls, values, value_rowids, nrows=None, name=None, validate=True):
        ids = to_numpy(value_rowids) if isinstance(value_rowids, torch.Tensor) else np.asarray(value_rowids)
        n = int(nrows) if nrows is not None else (int(ids.max()) + 1 if ids.size else 0)
        return cls.from_row_lengths(values, np.bincount(ids, minlength=n), validate=validate)

    @classmethod
    def from_tensor(cls, tensor, lengths=None, padding=None, ragged_rank=1, name=None):
        arr = to_numpy(tensor)
        rows = [list(r) for r in arr]
        if lengths is not None:
            rows = [r[:int(n)] for r, n in zip(rows, np.asarray(lengths))]
        elif padding is not None:
            rows = [r[:len(r) - _trailing(r, padding)] for r in rows]
        return cls.from_nested_rows(rows, dtype=arr.dtype)

    @classmethod
    def from_nested_rows(cls, rows, dtype=None):
        splits = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
        flat = [v for r in rows for v in r]
        if flat and isinstance(flat[0], (bytes, str)) or dtype is None and not flat:
            values = StringTensor(np.array(flat + [b""], dtype=object)[:-1])
        else:
            values = wrap(to_tensor(np.asarray(flat, dtype=dtype) if dtype is not None else flat))
        return cls(values, splits)

    # --- TF's attributes ----------------------------------------------------------------------
    @property
    def values(self):
        return self._values

    flat_values = values

    @property
    def row_splits(self):
        return wrap(torch.from_numpy(self._row_splits.copy()))

    def row_lengths(self, axis=1, name=None):
        return wrap(torch.from_numpy(np.diff(self._row_splits)))

    def value_rowids(self, name=None):
        return wrap(torch.from_numpy(np.repeat(np.arange(self._nrows()), np.diff(self._row_splits))))

    def nrows(self, out_type=None, name=None):
        return wrap(torch.tensor(self._nrows(), dtype=torch.int64))

    def _nrows(self):
        return len(self._row_splits) - 1

    @property
    def dtype(self):
        return getattr(self._values, "dtype", None) if isinstance(self._values, StringTensor) else \
            dtypes.as_dtype(self._values.dtype)

    @property
    def shape(self):
        return TensorShape([self._nrows(), None] + list(self._values.shape[1:]))

    @property
    def ragged_rank(self):
        return 1

    @property
    def ndim(self):
        return 1 + len(self._values.shape)

    def bounding_shape(self, axis=None, name=None, out_type=None):
        widest = int(np.diff(self._row_splits).max()) if self._nrows() else 0
        full = [self._nrows(), widest] + list(self._values.shape[1:])
        out = wrap(torch.tensor(full, dtype=torch.int64))
        return out if axis is None else out[axis]

    def _rows(self):
        flat = self._flat_list()
        s = self._row_splits
        return [flat[s[i]:s[i + 1]] for i in range(self._nrows())]

    def _flat_list(self):
        if isinstance(self._values, StringTensor):
            return list(self._values._array)
        return to_numpy(self._values).tolist()

    def to_list(self):
        return self._rows()

    def numpy(self):
        """An object array of per-row arrays (as TF's RaggedTensor.numpy())."""
        vals = self._values._array if isinstance(self._values, StringTensor) else to_numpy(self._values)
        out = np.empty(self._nrows(), dtype=object)
        out[:] = [vals[self._row_splits[i]:self._row_splits[i + 1]] for i in range(self._nrows())]
        return out

    def to_tensor(self, default_value=None, name=None, shape=None):
        """Dense, each row padded at its end with `default_value` (0, or b'' for strings)."""
        rows = self._rows()
        width = max((len(r) for r in rows), default=0)
        if shape is not None:
            width = width if shape[-1] is None else int(shape[-1])
        strings = isinstance(self._values, StringTensor)
        pad = default_value if default_value is not None else (b"" if strings else 0)
        if strings:
            out = np.full((len(rows), width), pad, dtype=object)
            for i, r in enumerate(rows):
                out[i, :min(len(r), width)] = r[:width]
            return StringTensor(out)
        vals = to_numpy(self._values)
        out = np.full((len(rows), width) + vals.shape[1:], pad, dtype=vals.dtype)
        for i in range(len(rows)):
            part = vals[self._row_splits[i]:self._row_splits[i + 1]][:width]
            out[i, :len(part)] = part
        return wrap(torch.from_numpy(out))

    # --- elementwise arithmetic: on the flat values, the row structure kept ----------------------
    def _with_values(self, values):
        return RaggedTensor(values, self._row_splits)

    def _binary(self, other, op):
        if isinstance(other, RaggedTensor):
            if not np.array_equal(other._row_splits, self._row_splits):
                raise ValueError("Ragged operands must have the same row lengths (row_splits); got "
                                 f"{self._row_splits.tolist()} and {other._row_splits.tolist()}.")
            other = other._values
        elif isinstance(other, torch.Tensor) and other.dim() > 0 or isinstance(other, (list, np.ndarray)):
            raise NotImplementedError("A RaggedTensor combines here with a scalar or a RaggedTensor of the same "
                                      "row lengths; for a dense tensor convert with rt.to_tensor() first.")
        return self._with_values(op(self._values, other))

    def __add__(self, other):
        return self._binary(other, lambda a, b: a + b)

    def __radd__(self, other):
        return self._binary(other, lambda a, b: b + a)

    def __sub__(self, other):
        return self._binary(other, lambda a, b: a - b)

    def __rsub__(self, other):
        return self._binary(other, lambda a, b: b - a)

    def __mul__(self, other):
        return self._binary(other, lambda a, b: a * b)

    __rmul__ = __mul__

    def __truediv__(self, other):
        return self._binary(other, lambda a, b: a / b)

    def __eq__(self, other):
        return self._binary(other, lambda a, b: a == b)

    def __ne__(self, other):
        return self._binary(other, lambda a, b: a != b)

    def __lt__(self, other):
        return self._binary(other, lambda a, b: a < b)

    def __gt__(self, other):
        return self._binary(other, lambda a, b: a > b)

    def __neg__(self):
        return self._with_values(-self._values)

    __hash__ = object.__hash__

    def __getitem__(self, key):
        if isinstance(key, tuple) and len(key) == 2 and isinstance(key[1], slice) and key[0] == slice(None):
            rows = [_as_list(self[i])[key[1]] for i in range(self._nrows())]     # rt[:, a:b]: within each row
            return RaggedTensor.from_nested_rows(rows, dtype=None if not rows or isinstance(
                self._values, StringTensor) else to_numpy(self._values).dtype)
        if isinstance(key, (int, np.integer)):
            i = int(key) + (self._nrows() if key < 0 else 0)
            return self._values[int(self._row_splits[i]):int(self._row_splits[i + 1])]
        if isinstance(key, slice):
            idx = range(self._nrows())[key]
            rows = [self._values[int(self._row_splits[i]):int(self._row_splits[i + 1])] for i in idx]
            return RaggedTensor.from_nested_rows([_as_list(r) for r in rows])
        raise TypeError("A RaggedTensor here is indexed by row (rt[1], rt[1:3]); call to_tensor() for more.")

    def __iter__(self):
        return (self[i] for i in range(self._nrows()))

    def __len__(self):
        return self._nrows()

    def __repr__(self):
        return f"<tf.RaggedTensor {self.to_list()}>"

    def __str__(self):
        return repr(self)


def _trailing(row, padding):
    n = 0
    for v in reversed(row):
        if v != padding:
            break
        n += 1
    return n


def _as_list(t):
    return list(t._array) if isinstance(t, StringTensor) else to_numpy(t).tolist()


def _as_values(values):
    if isinstance(values, (StringTensor, torch.Tensor)):
        return values
    if is_string_value(values):
        return StringTensor(values)
    return wrap(to_tensor(values))


def constant(pylist, dtype=None, ragged_rank=None, inner_shape=None, name=None, row_splits_dtype=None):
    """`tf.ragged.constant`: a nested list whose rows differ in length (ragged_rank 1)."""
    if not isinstance(pylist, (list, tuple)) or not all(isinstance(r, (list, tuple)) for r in pylist):
        raise ValueError("tf.ragged.constant here takes a list of rows (lists), e.g. [[1, 2], [3]].")
    if any(isinstance(v, (list, tuple)) for r in pylist for v in r):
        raise NotImplementedError("Only one ragged dimension is supported (a list of flat rows); nested rows "
                                  "are not. Pad the inner lists and use tf.constant, or flatten them.")
    flat = [v for r in pylist for v in r]
    splits = np.concatenate([[0], np.cumsum([len(r) for r in pylist])]).astype(np.int64)
    if (dtype is not None and dtypes.as_dtype(dtype) == dtypes.string) or (flat and is_string_value(flat)):
        values = StringTensor(np.array(flat + [b""], dtype=object)[:-1])
    else:
        values = wrap(to_tensor(flat if flat else np.zeros(0, np.float32), dtype))
    return RaggedTensor(values, splits)


def map_flat_values(op, *args, **kwargs):
    """`tf.ragged.map_flat_values`: `op` applied to the flat values of the RaggedTensor arguments."""
    ragged = [a for a in list(args) + list(kwargs.values()) if isinstance(a, RaggedTensor)]
    if not ragged:
        raise ValueError("map_flat_values needs at least one RaggedTensor argument.")
    splits = ragged[0]._row_splits
    if any(not np.array_equal(r._row_splits, splits) for r in ragged[1:]):
        raise ValueError("map_flat_values: every RaggedTensor argument must have the same row lengths.")
    flat = [a._values if isinstance(a, RaggedTensor) else a for a in args]
    kw = {k: (v._values if isinstance(v, RaggedTensor) else v) for k, v in kwargs.items()}
    return RaggedTensor(op(*flat, **kw), splits)
