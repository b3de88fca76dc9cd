"""Open an HDF5 model or weights file only if it holds nothing but plain numbers in this file.

HDF5 can make a dataset read its bytes from another file (external storage, a virtual dataset)
or make a name point elsewhere (external and soft links). Loaded as weights, that would copy
any file the process can read into a model. Keras 3 refuses such files; so do we, before a
single value is read, for every reader (`.weights.h5`, the weights inside `.keras`, legacy
`.h5`). The same walk checks each dataset's dtype (real numbers only) and that its declared
size is backed by bytes in the file, so a tiny file cannot ask for gigabytes.
"""
import numpy as np

__all__ = ["open_checked", "h5py_module", "MAX_OBJECTS", "MAX_EXPANSION", "EXPANSION_FLOOR"]

MAX_OBJECTS = 100_000          # groups and datasets; Keras files hold a few per layer
MAX_EXPANSION = 1000           # declared bytes / stored bytes allowed for a compressed dataset
EXPANSION_FLOOR = 1 << 26      # datasets up to 64 MiB are never questioned


def h5py_module():
    try:
        import h5py
    except ImportError:
        raise ImportError("Saving and loading Keras files needs h5py: pip install h5py") from None
    return h5py


def _check_dataset(name, ds, source, error):
    where = f"{source}: dataset '/{name}'"
    if ds.external:
        raise error(f"Not allowed: {where} keeps its data in external file(s) "
                    f"{[e[0] for e in ds.external]}; model files must hold their own numbers. "
                    "Refusing to load it (it could read any local file into the weights).")
    if ds.is_virtual:
        raise error(f"Not allowed: {where} is a virtual dataset (its data lives in other files). "
                    "Refusing to load it; save the model again with model.save()/save_weights().")
    kind = ds.dtype.kind
    if kind == "c":
        raise error(f"{where} holds complex numbers ({ds.dtype}); weights are real. Loading it would drop "
                    "the imaginary part, so it is refused.")
    if kind not in "fiub":
        raise error(f"{where} holds {ds.dtype} values (strings or records), not numbers; it is not a "
                    "Keras weights file. Save the model again with model.save()/save_weights().")
    declared = int(np.prod(ds.shape, dtype=np.float64)) * ds.dtype.itemsize if ds.shape else ds.dtype.itemsize
    stored = ds.id.get_storage_size()
    if declared > EXPANSION_FLOOR and declared > MAX_EXPANSION * max(stored, 1):
        raise error(f"Not allowed: {where} declares shape {ds.shape} ({declared:,} bytes) but the file stores "
                    f"only {stored:,} bytes for it; refusing a decompression/shape bomb.")
    return int(np.prod(ds.shape, dtype=np.float64)) if ds.shape else 1


def _walk(h5py, f, source, error):
    """The first problem found as an exception, else the number of values in all datasets."""
    count, total = [0], [0]

    def link(name, info):
        if not isinstance(info, h5py.HardLink):
            kind = type(info).__name__
            target = getattr(info, "filename", None) or getattr(info, "path", None)
            return error(f"Not allowed: {source}: '/{name}' is an HDF5 {kind} (to {target!r}); model files "
                         "must hold their data themselves. Refusing to load it (it could read other files).")
        return None

    def visit(name, obj):
        count[0] += 1
        if count[0] > MAX_OBJECTS:
            return error(f"{source} holds more than {MAX_OBJECTS:,} HDF5 objects; no Keras model file has "
                         "that many. Refusing to read it.")
        if isinstance(obj, h5py.Dataset):
            try:
                total[0] += _check_dataset(name, obj, source, error)
            except error as exc:
                return exc
        return None

    return f.visititems_links(link) or f.visititems(visit) or total[0]


def open_checked(path, source, error):
    """`(h5py.File opened read-only, number of values in all its datasets)`; raises `error`
    naming `source` (the file the user gave) for anything an honest Keras file never holds."""
    h5py = h5py_module()
    try:
        f = h5py.File(path, "r")
    except (OSError, ValueError) as exc:
        raise error(f"{source} is not a readable HDF5 file ({exc}). Was it written by save_weights()/"
                    "model.save() (Keras 3 format)?") from None
    try:
        problem = _walk(h5py, f, source, error)      # raised here, not inside h5py's C callbacks
    except BaseException:
        f.close()
        raise
    if isinstance(problem, Exception):
        f.close()
        raise problem
    return f, problem
