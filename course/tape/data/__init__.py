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
torch tensors in the element's structure, without the EagerTensor wrapping; `dataset._is_batched()`
says whether elements are batches.

Modules: `dataset` (the API and the in-memory sources), `transforms` (one class per
transformation), `windows` (padded batches, windows, nested datasets), `sampling` (sampling from
several datasets), `files` (text, CSV and file-list sources), `plans` (index plans, the shuffle
buffer), `structure` (elements and blocks). `Dataset` does not import its subclasses: the modules
that define them register them with it when imported, which this package does below.
"""
from course.tape.data import files, sampling, transforms, windows  # noqa: F401  (they register with Dataset)
from course.tape.data.dataset import AUTOTUNE, INFINITE, UNKNOWN, Dataset, Options, cardinality, iter_batches

__all__ = ["Dataset", "AUTOTUNE", "INFINITE", "UNKNOWN", "iter_batches", "cardinality", "Options"]
