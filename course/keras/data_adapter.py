"""What `fit`/`evaluate`/`predict` accept, turned into batches of plain tensors on the device.

Arrays (numpy, torch, EagerTensor) are moved to the device once; an epoch is one permutation
and `ceil(N / batch_size)` index selections (no per-sample Python: `course.data.batches`' fast path).
Anything iterable that
yields `x`, `(x, y)` or `(x, y, sample_weight)` batches (a `tf.data.Dataset`, a DataLoader, a
generator) is converted batch by batch. Inputs are checked once, up front: equal lengths, and
no NaN or infinity (the message names the first bad sample).
"""
import math
import numbers
import warnings

import numpy as np
import torch

from course.data.batches import index_batches
from course.keras.layers.conversion import to_tensor

__all__ = ["ArrayData", "IterableData", "StepsPerEpoch", "adapt", "unpack", "check_count", "check_numeric"]


def check_count(value, name, who, *, minimum=1, allow_none=False):
    """`value` as an int, or TypeError/ValueError naming the argument (Keras raises TypeError for 2.5 or '32')."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        example = 32 if name == "batch_size" else 10
        raise TypeError(f"{who}: {name} must be an integer, such as {name}={example}; got {value!r} of type "
                        f"{type(value).__name__}. Pass a whole number.")
    if value < minimum:
        raise ValueError(f"{who}: {name} must be at least {minimum}; got {value}.")
    return int(value)


def check_numeric(value, name, who):
    """Refuse strings (and other non-numbers) before torch sees them, naming the argument."""
    if isinstance(value, (str, bytes)):
        raise ValueError(f"{who}: {name} is a string ({value[:40]!r}); the model needs numbers. Turn text into "
                         "numbers first (for example a vocabulary lookup), then pass a numeric array.")
    if isinstance(value, (list, tuple)):
        try:
            value = np.asarray(value)
        except (ValueError, TypeError):
            return                                   # ragged: to_tensor explains that case
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "US":
            raise ValueError(f"{who}: {name} holds strings (dtype {value.dtype}, shape {value.shape}); the model "
                             "needs numbers. Turn text into numbers first (for example a vocabulary lookup), then "
                             "pass a numeric array.")


def _is_array(v):
    return isinstance(v, (np.ndarray, torch.Tensor, list, tuple)) or np.isscalar(v) or hasattr(v, "__array__")


def unpack(data):
    """(x, y, sample_weight) from `validation_data`-style tuples."""
    if isinstance(data, (list, tuple)):
        if len(data) == 2:
            return data[0], data[1], None
        if len(data) == 3:
            return tuple(data)
        raise ValueError(f"validation_data must be (x_val, y_val) or (x_val, y_val, sample_weight); "
                         f"got a {type(data).__name__} of length {len(data)}.")
    return data, None, None


def _check_finite(t, what):
    if not t.is_floating_point():
        return
    if bool(torch.isfinite(t.sum())):        # one cheap pass: NaN and ±inf reach the sum (overflow: exact check)
        return
    bad = ~torch.isfinite(t)
    if bool(bad.any()):
        per_sample = bad.reshape(len(t), -1).any(dim=1)
        first = int(per_sample.nonzero()[0, 0])
        count = int(per_sample.sum())
        where = tuple(int(i) for i in bad.nonzero()[0])
        kind = "NaN" if torch.isnan(t[where]) else "infinity"
        raise ValueError(f"{what} contains {kind} at index {where} (sample {first}; {count} sample(s) have NaN or "
                         f"infinite values). Clean the data first, e.g. np.nan_to_num(x) or drop those rows.")


class ArrayData:
    """In-memory arrays on the device, batched by index slicing."""

    def __init__(self, x, y=None, sample_weight=None, *, batch_size=32, shuffle=False, device=None,
                 steps=None, check=True, x_name="x", who="fit"):
        for value, name in ((x, x_name), (y, "y"), (sample_weight, "sample_weight")):
            if value is not None:
                check_numeric(value, name, who)
        self.x = to_tensor(x, device=device, cast_ints=True)
        self.y = None if y is None else to_tensor(y, device=self.x.device)
        self.sample_weight = None if sample_weight is None else to_tensor(sample_weight, device=self.x.device)
        n = len(self.x) if self.x.dim() else 0
        if self.x.dim() == 0:
            raise ValueError(f"{x_name} must have a batch axis; got a scalar.")
        if self.y is not None and len(self.y) != n:
            raise ValueError(f"x and y must have the same number of samples; got x with {n} and y with "
                             f"{len(self.y)} (shapes {tuple(self.x.shape)} and {tuple(self.y.shape)}).")
        if self.sample_weight is not None and len(self.sample_weight) != n:
            raise ValueError(f"sample_weight must have one weight per sample ({n}); got {len(self.sample_weight)}.")
        if n == 0:
            raise ValueError(f"{x_name} is empty (shape {tuple(self.x.shape)}); there is nothing to train or test on.")
        if check:
            _check_finite(self.x, x_name)
            if self.y is not None:
                _check_finite(self.y, "y")
        self.batch_size = check_count(32 if batch_size is None else batch_size, "batch_size", who)
        self.shuffle = shuffle
        self.num_samples = n
        full = math.ceil(n / self.batch_size)
        self.steps = min(full, steps) if steps else full

    def split(self, fraction):
        """(train, validation): the validation part is the LAST `fraction` of the samples, before any shuffling."""
        if not 0.0 < fraction < 1.0:
            raise ValueError(f"validation_split must be between 0 and 1; got {fraction}.")
        at = int(math.floor(self.num_samples * (1.0 - fraction)))
        if at == 0 or at == self.num_samples:
            raise ValueError(f"validation_split={fraction} leaves an empty part of {self.num_samples} samples.")
        cut = lambda t, a, b: None if t is None else t[a:b]
        train = ArrayData.__new__(ArrayData)
        val = ArrayData.__new__(ArrayData)
        for part, (a, b) in ((train, (0, at)), (val, (at, self.num_samples))):
            part.x, part.y, part.sample_weight = cut(self.x, a, b), cut(self.y, a, b), cut(self.sample_weight, a, b)
            part.batch_size, part.shuffle, part.num_samples = self.batch_size, self.shuffle, b - a
            part.steps = math.ceil(part.num_samples / self.batch_size)
        val.shuffle = False
        return train, val

    def __len__(self):
        return self.steps

    def __iter__(self):
        order = torch.randperm(self.num_samples).to(self.x.device) if self.shuffle else None   # one per epoch
        return index_batches((self.x, self.y, self.sample_weight), self.batch_size, order=order, steps=self.steps)


class IterableData:
    """A dataset or generator of batches; each batch converted on the fly."""

    def __init__(self, source, *, steps=None, device=None):
        self.source = source
        self.device = device
        self._iterator = source if hasattr(source, "__next__") else None   # a generator is consumed across epochs
        try:
            length = len(source)
        except TypeError:
            length = None
        self.steps = min(length, steps) if (length is not None and steps) else (steps or length)
        self.num_samples = None

    def __len__(self):
        return self.steps

    def _convert(self, batch):
        if isinstance(batch, dict):
            raise NotImplementedError("Datasets of dicts (named inputs) are not supported; yield (x, y) tuples.")
        if isinstance(batch, (list, tuple)) and len(batch) in (2, 3) and not _looks_like_sample_row(batch):
            parts = list(batch) + [None] * (3 - len(batch))
        else:
            parts = [batch, None, None]
        out = []
        for i, p in enumerate(parts):
            if p is None:
                out.append(None)
            else:
                out.append(to_tensor(p, device=self.device, cast_ints=(i == 0)))
        return tuple(out)

    def __iter__(self):
        it = self._iterator if self._iterator is not None else iter(self.source)
        for i, batch in enumerate(it):
            yield self._convert(batch)
            if self.steps is not None and i + 1 >= self.steps:
                break


class StepsPerEpoch:
    """fit(steps_per_epoch=n) as Keras 3's EpochIterator walks the data: one iterator over `data` lasts
    across epochs, so each epoch takes the NEXT n batches (a `.repeat()`ed dataset keeps going; arrays go
    on through the shuffled order). When a pass over data of known length (`num_batches`) runs out
    mid-epoch, that epoch ends early with Keras' warning and the next epoch starts a new pass (a new
    shuffle); data of unknown length that runs out does the same."""

    def __init__(self, data, steps_per_epoch, num_batches):
        self.data = data
        self.steps = steps_per_epoch               # what callbacks see as params["steps"], as in Keras
        self.num_batches = num_batches             # batches in one pass over the data; None: unknown
        self.num_samples = getattr(data, "num_samples", None)
        self._iterator = None
        self._seen = 0                             # batches taken from the current pass

    def __len__(self):
        return self.steps

    def __iter__(self):
        if self._iterator is None:
            self._iterator, self._seen = iter(self.data), 0
        for _ in range(self.steps):
            if self.num_batches and self._seen >= self.num_batches:
                _ran_out()
                break
            try:
                batch = next(self._iterator)
            except StopIteration:
                _ran_out()
                self._iterator = None
                return
            self._seen += 1
            yield batch
        if self.num_batches and self._seen >= self.num_batches:
            self._iterator = None                  # the pass is over: the next epoch starts a new one


def _ran_out():
    warnings.warn("Your input ran out of data; interrupting training. Make sure that your dataset or generator "
                  "can generate at least `steps_per_epoch * epochs` batches. You may need to use the `.repeat()` "
                  "function when building your dataset.", stacklevel=4)


def _looks_like_sample_row(batch):
    return all(np.isscalar(b) for b in batch)


def adapt(x, y=None, sample_weight=None, *, batch_size=None, shuffle=False, device=None, steps=None,
          check=True, who="fit"):
    """ArrayData for arrays, IterableData for datasets/generators (then y must be None)."""
    if x is None:
        raise ValueError(f"{who}() needs data: x (and y), or a dataset yielding (x, y) batches.")
    if isinstance(x, dict):
        raise NotImplementedError(f"{who}: dict inputs (named inputs) are not supported; pass an array.")
    check_count(batch_size, "batch_size", who, allow_none=True)
    check_numeric(x, "x", who)
    if _is_array(x) and not _is_dataset(x):
        return ArrayData(x, y, sample_weight, batch_size=batch_size or 32, shuffle=shuffle, device=device,
                         steps=steps, check=check, who=who)
    if y is not None:
        raise ValueError(f"{who}: when x is a dataset or generator it must yield (x, y) batches; do not pass y "
                         f"separately (got y of type {type(y).__name__}).")
    if batch_size is not None and who != "predict":
        raise ValueError(f"{who}: do not give batch_size with a dataset; the dataset decides it (use .batch(n)).")
    return IterableData(x, steps=steps, device=device)


def _is_dataset(x):
    return not isinstance(x, (np.ndarray, torch.Tensor, list, tuple)) and (hasattr(x, "__iter__") or
                                                                           hasattr(x, "__next__"))
