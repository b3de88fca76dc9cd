"""`Dataset`: the API (constructors, transformations, iteration) and the in-memory sources."""
import itertools

import torch

import course.device
from course.framework import nest
from course.tape.data import plans, structure
from course.framework.dtypes import as_torch_dtype
from course.tape.function import TensorSpec
from course.framework.shapes import TensorShape
from course.tape.string_tensor import StringTensor
from course.tape.tensor import to_tensor, wrap

__all__ = ["Dataset", "DatasetSpec", "Options", "iter_batches", "cardinality", "AUTOTUNE", "INFINITE", "UNKNOWN",
           "register", "KINDS"]

AUTOTUNE = -1
INFINITE = -1        # tf.data.INFINITE_CARDINALITY
UNKNOWN = -2         # tf.data.UNKNOWN_CARDINALITY


class _Kinds:
    """The Dataset subclasses (and helpers) defined in the modules that import this one: transforms,
    windows, sampling and files. The base class does not import its subclasses; each of those modules
    registers its own here when it is imported, and `course.tape.data` imports them all."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise RuntimeError(f"tf.data: {name} is not registered yet; import course.tape.data (it loads every "
                           f"transformation module) before using course.tape.data.dataset directly.")


KINDS = _Kinds()


def register(*objs):
    """Make classes/functions of a module above this one available to `Dataset`'s methods (as KINDS.<name>)."""
    for obj in objs:
        setattr(KINDS, obj.__name__, obj)
    return objs[-1]


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
        for idx in plans.rechunk(plan.stream(), plans.CHUNK):
            yield from structure.rows(plan.gather(idx))

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
        flat = nest.flatten(first)
        specs = [TensorSpec(self._spec_shape(list(t.shape), k), t.dtype) for k, t in enumerate(flat)]
        return nest.pack_sequence_as(first, specs)

    def _spec_shape(self, shape, index):
        """The static shape TF reports for component `index` of an element whose shape is `shape`."""
        if getattr(self, "_keeps_spec", False):
            return self._input._spec_shape(shape, index)
        return [None if (self._batched and i == 0 and not self._fixed_batch()) else d for i, d in enumerate(shape)]

    def _fixed_batch(self):
        return False

    def __repr__(self):
        try:
            spec = self.element_spec
        except Exception:               # a broken map function must not break the repr
            spec = "?"
        name = getattr(self, "_name", None) or getattr(self, "_tf_name", None) or type(self).__name__
        return f"<{name} element_spec={spec}>"

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
        return _TensorSliceDataset(structure.normalize(tensors))

    @staticmethod
    def from_tensors(tensors, name=None):
        """One element: `tensors` itself."""
        return _TensorSliceDataset(nest.map_structure(lambda t: t.unsqueeze(0), structure.normalize(tensors)),
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
    def list_files(file_pattern, shuffle=None, seed=None, name=None):
        """The paths matching `file_pattern` (a glob), as string elements; shuffled unless shuffle=False."""
        return KINDS.list_files(file_pattern, shuffle, seed)

    @staticmethod
    def zip(*datasets, name=None):
        if len(datasets) == 1 and isinstance(datasets[0], (tuple, list, dict)):
            datasets = datasets[0]
        return KINDS._ZipDataset(tuple(datasets) if isinstance(datasets, list) else datasets)

    # ---- transformations ----
    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None, name=None):
        """Randomly shuffle with a buffer of `buffer_size` elements (>= the dataset size: a full shuffle)."""
        return KINDS._ShuffleDataset(self, buffer_size, seed, reshuffle_each_iteration)

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None, deterministic=None, name=None):
        """Stack `batch_size` consecutive elements; the last batch is short unless `drop_remainder`."""
        return KINDS._BatchDataset(self, batch_size, drop_remainder)

    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """Apply `map_func` to each element (tuple elements are passed as separate arguments)."""
        return KINDS._MapDataset(self, map_func)

    def repeat(self, count=None, name=None):
        """Repeat the dataset `count` times (forever when None or -1), reshuffling each pass."""
        return KINDS._RepeatDataset(self, count)

    def take(self, count, name=None):
        return KINDS._TakeDataset(self, count)

    def skip(self, count, name=None):
        return KINDS._SkipDataset(self, count)

    def prefetch(self, buffer_size, name=None):
        """Accepted for compatibility; data already lives on the device, so there is nothing to prefetch."""
        return KINDS._PassThrough(self, "_PrefetchDataset")

    def cache(self, filename="", name=None):
        """Remember the first full pass and replay it (random maps and shuffles before cache are frozen)."""
        return KINDS._CacheDataset(self)

    def unbatch(self, name=None):
        return KINDS._UnbatchDataset(self)

    def filter(self, predicate, name=None):
        return KINDS._FilterDataset(self, predicate)

    def concatenate(self, dataset, name=None):
        return KINDS._ConcatenateDataset(self, dataset)

    def enumerate(self, start=0, name=None):
        return Dataset.zip((_CounterDataset(start), self))

    def shard(self, num_shards, index, name=None):
        return KINDS._ShardDataset(self, int(num_shards), int(index))

    def padded_batch(self, batch_size, padded_shapes=None, padding_values=None, drop_remainder=False, name=None):
        """Batch elements of different shapes, padding each component at its end to the batch's longest
        (or to `padded_shapes`) with `padding_values` (default 0, or b'' for strings)."""
        return KINDS._PaddedBatchDataset(self, batch_size, padded_shapes, padding_values, drop_remainder)

    def window(self, size, shift=None, stride=1, drop_remainder=False, name=None):
        """Elements become datasets of `size` consecutive elements, one starting every `shift`."""
        return KINDS._WindowDataset(self, size, shift, stride, drop_remainder)

    def flat_map(self, map_func, name=None):
        """`map_func` returns a dataset per element; their elements follow each other."""
        return KINDS._FlatMapDataset(self, map_func)

    def interleave(self, map_func, cycle_length=None, block_length=None, num_parallel_calls=None,
                   deterministic=None, name=None):
        """`map_func` returns a dataset per element; `cycle_length` of them are read in turn."""
        return KINDS._InterleaveDataset(self, map_func, cycle_length, 1 if block_length is None else block_length)

    def scan(self, initial_state, scan_func, name=None):
        """`scan_func(state, element) -> (new_state, output)`, threading the state through the elements."""
        return KINDS._ScanDataset(self, initial_state, scan_func)

    def group_by_window(self, key_func, reduce_func, window_size=None, window_size_func=None, name=None):
        """Elements grouped by key_func; each full window (or what is left at the end, by key) is reduced."""
        return KINDS._GroupByWindowDataset(self, key_func, reduce_func, window_size, window_size_func)

    def bucket_by_sequence_length(self, element_length_func, bucket_boundaries, bucket_batch_sizes,
                                  padded_shapes=None, padding_values=None, pad_to_bucket_boundary=False,
                                  no_padding=False, drop_remainder=False, name=None):
        return KINDS.bucket_by_sequence_length(self, element_length_func, bucket_boundaries, bucket_batch_sizes,
                                         padded_shapes, padding_values, pad_to_bucket_boundary, no_padding,
                                         drop_remainder)

    @staticmethod
    def sample_from_datasets(datasets, weights=None, seed=None, stop_on_empty_dataset=False,
                             rerandomize_each_iteration=None):
        return KINDS.sample_from_datasets(datasets, weights, seed, stop_on_empty_dataset)

    def rejection_resample(self, class_func, target_dist, initial_dist=None, seed=None, name=None):
        """(class, element) pairs, resampled so the classes follow `target_dist`."""
        return KINDS.rejection_resample(self, class_func, target_dist, initial_dist, seed)

    @staticmethod
    def choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset=True):
        return KINDS.choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset)

    def apply(self, transformation_func):
        return transformation_func(self)

    def with_options(self, options, name=None):
        return self

    def options(self):
        return Options()


class DatasetSpec:
    """What `element_spec` shows for an element that is itself a dataset (`window`)."""

    def __init__(self, element_spec, dataset_shape=()):
        self.element_spec = element_spec
        self._shape = TensorShape(dataset_shape)

    def __repr__(self):
        return f"DatasetSpec({self.element_spec!r}, {self._shape!r})"

    def __eq__(self, other):
        return isinstance(other, DatasetSpec) and repr(self) == repr(other)


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
            from course.framework.errors import OutOfRangeError
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

    def _plan(self):
        if any(isinstance(t, StringTensor) for t in nest.flatten(self._tensors)):
            return None                  # string columns are numpy bytes: the per-element path
        n, device = self._n, nest.flatten(self._tensors)[0].device
        return plans.Plan(self._tensors, lambda: iter([torch.arange(n, device=device)]))

    def _cardinality(self):
        return self._n

    def _iter_generic(self):
        for i in range(self._n):
            yield structure.row(self._tensors, i)


class _GeneratorDataset(Dataset):
    _tf_name = "_FlatMapDataset"           # TF builds from_generator with flat_map
    def __init__(self, generator, output_types, output_signature, args):
        self._generator, self._types, self._signature, self._args = generator, output_types, output_signature, args

    def _convert(self, value):
        spec = self._signature if self._signature is not None else self._types
        if spec is None:
            return structure.fn_output(value)
        if isinstance(value, list):
            value = tuple(value)
        specs, leaves = nest.flatten(spec), nest.flatten(value)
        out = [to_tensor(v, s.dtype if isinstance(s, TensorSpec) else s) for v, s in zip(leaves, specs)]
        return nest.pack_sequence_as(value, out)

    @property
    def element_spec(self):
        if self._signature is not None:
            return self._signature
        return super().element_spec

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
