"""`keras.utils.get_file`, offline: the files the course knows are built locally, others must be in the cache.

Nothing is downloaded. `get_file('mnist.npz', origin=...)` (what TF's tutorials call) writes
Keras' `mnist.npz` (`x_train, y_train, x_test, y_test`, uint8) from the packaged MNIST files,
which are checked against their MD5 sums first; the npz is ours, so Keras' `file_hash` for its
own download (a hash of different bytes) is not applied to it. Any other file is returned when it
is already in the cache folder (checked against `file_hash` when given); otherwise the error names
the path to fill. The cache is Keras' (`~/.keras/datasets`, or `cache_dir`/`KERAS_HOME`).
"""
import hashlib
import os
import tempfile

import numpy as np

from course.atomic_file import atomic_write
from course.data import load_mnist_numpy

__all__ = ["get_file"]

_BUILT = {"mnist.npz"}


def _cache_folder(cache_dir, cache_subdir):
    base = cache_dir or os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    if not os.access(os.path.dirname(os.path.abspath(base)) or ".", os.W_OK) and not os.path.isdir(base):
        base = os.path.join(tempfile.gettempdir(), ".keras")        # Keras' fallback for a read-only home
    return os.path.join(base, cache_subdir)


def _hash(path, algorithm):
    h = hashlib.sha256() if algorithm in ("sha256", "auto") else hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_mnist(path):
    (x_train, y_train), (x_test, y_test) = load_mnist_numpy()      # MD5-checked IDX files

    def write(tmp):
        with open(tmp, "wb") as f:              # a file object: savez would append '.npz' to a name
            np.savez_compressed(f, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    atomic_write(path, write)


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None, cache_subdir="datasets",
             hash_algorithm="auto", extract=False, archive_format="auto", cache_dir=None, force_download=False):
    """The local path of `fname`: built for known files, found in the cache otherwise (never downloaded)."""
    if fname is None:
        if not origin:
            raise ValueError("get_file needs fname or origin: the name of the file to return.")
        fname = os.path.basename(origin.split("?")[0])
    if untar or extract:
        raise NotImplementedError("get_file(extract=True / untar=True) is not supported offline: extract the "
                                  "archive yourself (tarfile, zipfile) and pass the folder to your code.")
    folder = _cache_folder(cache_dir, cache_subdir)
    path = fname if os.path.isabs(fname) else os.path.join(folder, fname)
    if os.path.basename(path) in _BUILT:
        if force_download or not os.path.exists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            _write_mnist(path)
        return path
    if not os.path.exists(path):
        raise OSError(f"get_file: {fname!r} is not in the cache and course.tf does not download (origin "
                      f"{origin!r}). Put the file at {path} (or pass cache_dir=) and run again.")
    expected = file_hash or md5_hash
    if expected:
        algorithm = "md5" if md5_hash and not file_hash else ("sha256" if len(expected) == 64 else "md5")
        actual = _hash(path, algorithm if hash_algorithm == "auto" else hash_algorithm)
        if actual != expected:
            raise ValueError(f"get_file: {path} has {algorithm} {actual}, not the expected {expected}; the file is "
                             f"incomplete or a different version. Replace it and run again.")
    return path
