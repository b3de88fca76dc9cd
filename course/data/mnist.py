"""Find, verify and load MNIST from local files; nothing is downloaded unless asked.

Search order (the first folder holding all four files wins):
1. an explicit `root`,
2. the COURSE_DATA environment variable,
3. the copy shipped inside the package (`course/data/files/mnist`),
4. the user cache (`$XDG_CACHE_HOME/course/mnist`, default `~/.cache/course/mnist`).
Each folder may hold the files directly or in torchvision's `MNIST/raw/` layout, gzipped or not.
An explicit `root` is used or refused, never silently replaced; an unusable COURSE_DATA falls back
to the next place with a warning that says why. Files are checked against the MD5 sums of the
decompressed canonical files: the very bytes that are parsed are hashed when loaded (0.1 s), and
`find_mnist` caches its verdict per (path, size, mtime, inode, ctime), which no rewrite of the
file can keep.
"""
import gzip
import hashlib
from zlib import error as zlib_error
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from course.atomic_file import atomic_write

__all__ = ["FILES", "MNISTDataError", "MNISTFiles", "find_mnist", "load_mnist", "load_mnist_numpy",
           "cache_dir"]

# decompressed name -> (md5 of decompressed bytes, expected IDX shape)
FILES = {
    "train-images-idx3-ubyte": ("6bbc9ace898e44ae57da46a324031adb", (60000, 28, 28)),
    "train-labels-idx1-ubyte": ("a25bea736e30d166cdddb491f175f624", (60000,)),
    "t10k-images-idx3-ubyte": ("2646ac647ad5339dbf082846283269ea", (10000, 28, 28)),
    "t10k-labels-idx1-ubyte": ("27ae3e4e09519cfbb04c329615203637", (10000,)),
}
_PACKAGED = Path(__file__).resolve().parent / "files" / "mnist"
_memo: dict = {}          # resolved folder -> numpy arrays, so notebooks reload instantly


class MNISTDataError(FileNotFoundError):
    """MNIST could not be found, or a file found was truncated or corrupt."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "course" / "mnist"


@dataclass(frozen=True)
class MNISTFiles:
    folder: Path
    paths: dict          # canonical name -> actual file (maybe .gz)
    source: str          # which rule of the search order found it

    def __str__(self):
        return f"{self.folder} ({self.source})"


def _candidates(root):
    if root is not None:
        yield Path(root), "explicit path"
    env = os.environ.get("COURSE_DATA")
    if env:
        yield Path(env), "COURSE_DATA"
    yield _PACKAGED, "packaged copy"
    yield cache_dir(), "user cache"


def _files_in(folder: Path):
    """(sub-folder, {name: path}) holding all four files, else (None, why not): the reason names the
    missing files, or says the folder is missing, a file, or unreadable."""
    try:
        if not folder.exists():
            return None, "does not exist"
        if not folder.is_dir():
            return None, "is a file, not a folder; give the folder that holds the four MNIST files"
    except OSError as exc:
        return None, f"cannot be checked ({exc.strerror or exc})"
    best, unreadable = {}, None
    for sub in (folder, folder / "MNIST" / "raw", folder / "raw"):
        paths = {}
        try:
            for name in FILES:
                for candidate in (sub / name, sub / (name + ".gz")):
                    if candidate.is_file():
                        paths[name] = candidate
                        break
        except PermissionError as exc:
            unreadable = unreadable or f"{exc.filename or sub}: permission denied (cannot list the folder)"
            continue
        if len(paths) == len(FILES):
            return sub, paths
        if len(paths) > len(best):
            best = paths
    if best:
        missing = [name for name in FILES if name not in best]
        where = next(iter(best.values())).parent
        return None, (f"{where} holds {len(best)} of the 4 files; missing: "
                      + ", ".join(f"{name} (or {name}.gz)" for name in missing))
    if unreadable:
        return None, unreadable
    return None, "holds none of the four files"


def _not_found(tried, problems=()):
    lines = ["MNIST was not found (or not usable). Looked in:"]
    lines += [f"  - {p}  ({src})" for p, src in tried]
    lines += [f"  ! {msg}" for msg in problems]
    lines.append("Expected these four files there (gzipped or not, directly or under MNIST/raw/): "
                 + ", ".join(FILES) + ".")
    lines.append("Fix: point COURSE_DATA at a folder holding them, pass root=..., "
                 "or call load_mnist(download=True) when online.")
    return MNISTDataError("\n".join(lines))


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except PermissionError:
        raise ValueError(f"{path}: permission denied; make it readable (chmod a+r) or copy the files to a "
                         "folder you can read") from None
    except (EOFError, gzip.BadGzipFile, zlib_error) as exc:
        raise ValueError(f"{path}: cannot be decompressed ({type(exc).__name__}: {exc}); truncated or not "
                         "gzip?") from None
    except OSError as exc:
        if path.suffix == ".gz" and exc.errno is None:          # gzip's own complaints carry no errno
            raise ValueError(f"{path}: cannot be decompressed ({exc}); truncated or not gzip?") from None
        raise ValueError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _verdict_file() -> Path:
    return cache_dir().parent / "verified.json"


def _stamp(path: Path) -> str:
    st = path.stat()               # ctime changes on any write, and no user can set it back
    return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{st.st_ino}|{st.st_ctime_ns}"


def _load_verdicts() -> dict:
    try:
        return json.loads(_verdict_file().read_text())
    except (OSError, ValueError):
        return {}


def _save_verdicts(verdicts: dict) -> None:
    target = _verdict_file()
    data = json.dumps(verdicts, indent=1)
    try:
        atomic_write(target, lambda tmp: Path(tmp).write_text(data))
    except OSError:
        pass                      # a read-only home only costs re-hashing next time


def _parse_idx(name: str, raw: bytes, path: Path) -> np.ndarray:
    """Decode an IDX file: magic (0, 0, 0x08 = uint8, ndim), big-endian dims, then the data."""
    shape = FILES[name][1]
    header = 4 + 4 * len(shape)
    if len(raw) < header or raw[:3] != b"\x00\x00\x08" or raw[3] != len(shape):
        raise ValueError(f"{path}: not an IDX uint8 file of rank {len(shape)} (bad header)")
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(len(shape)))
    if dims != shape or len(raw) != header + int(np.prod(shape)):
        raise ValueError(f"{path}: expected shape {shape} and {header + int(np.prod(shape))} bytes; "
                         f"got dims {dims} and {len(raw)} bytes (truncated?)")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def find_mnist(root=None, *, verify=True) -> MNISTFiles:
    """Locate the four MNIST files and (optionally) check their MD5 sums; raise MNISTDataError if none pass.

    An explicit `root` that is not usable raises at once; COURSE_DATA falls back with a warning."""
    tried, problems, env_problem = [], [], None
    for folder, source in _candidates(root):
        tried.append((folder, source))
        sub, paths = _files_in(folder)
        problem = paths if sub is None else None
        if sub is not None:
            found = MNISTFiles(sub, paths, source)
            try:
                if verify:
                    _verify(found)
            except ValueError as exc:
                problem = str(exc)
            else:
                if env_problem:
                    warnings.warn(f"COURSE_DATA={os.environ.get('COURSE_DATA')} is not usable ({env_problem}); "
                                  f"using MNIST from {found} instead. Fix COURSE_DATA or unset it.", stacklevel=2)
                return found
        problems.append(f"{folder} ({source}): {problem}")
        if source == "explicit path":
            raise _not_found(tried, problems)          # the caller asked for this folder: never another
        if source == "COURSE_DATA":
            env_problem = problem
    raise _not_found(tried, problems)


def _check_md5(name, raw, path):
    digest = hashlib.md5(raw).hexdigest()
    if digest != FILES[name][0]:
        raise ValueError(f"{path}: MD5 of the decompressed bytes is {digest}, expected {FILES[name][0]} "
                         "(corrupt or not the canonical MNIST file)")


def _verify(found: MNISTFiles) -> None:
    verdicts = _load_verdicts()
    changed = False
    for name, path in found.paths.items():
        key = _stamp(path)
        if verdicts.get(key) == "ok":
            continue
        _check_md5(name, _read_bytes(path), path)
        verdicts[key] = "ok"
        changed = True
    if changed:
        _save_verdicts(verdicts)


def _download(root):
    """Online only: let torchvision fetch the files into `root` or the user cache."""
    from torchvision.datasets import MNIST as TVMNIST
    target = Path(root) if root is not None else cache_dir()
    TVMNIST(str(target), train=True, download=True)
    TVMNIST(str(target), train=False, download=True)
    return target


def load_mnist_numpy(root=None, *, verify=True, download=False):
    """`(x_train, y_train), (x_test, y_test)` as uint8 numpy arrays, Keras' layout."""
    try:
        found = find_mnist(root, verify=verify)
    except MNISTDataError:
        if not download:
            raise
        found = find_mnist(_download(root), verify=verify)
    key = (str(found.folder), verify)
    if key not in _memo:
        arrays = {}
        for name, path in found.paths.items():
            try:
                raw = _read_bytes(path)
                if verify:                                   # the bytes parsed are the bytes checked
                    _check_md5(name, raw, path)
                arrays[name] = _parse_idx(name, raw, path)
            except ValueError as exc:
                raise _not_found([(found.folder, found.source)], [str(exc)]) from None
        _memo[key] = ((arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"]),
                      (arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"]))
    return _memo[key]


def load_mnist(root=None, *, device=None, verify=True, download=False):
    """MNIST as uint8 torch tensors: `(x_train, y_train), (x_test, y_test)`.

    Shapes (60000, 28, 28), (60000,), (10000, 28, 28), (10000,) -- the layout of
    `keras.datasets.mnist.load_data()`. `device=None` keeps them on the CPU; pass a device
    (or `course.device.get()`) to put the whole set there for the fast batch iterator.
    """
    (xtr, ytr), (xte, yte) = load_mnist_numpy(root, verify=verify, download=download)
    to = ((lambda a: torch.from_numpy(a.copy()).to(device)) if device is not None
          else (lambda a: torch.from_numpy(a.copy())))
    return (to(xtr), to(ytr)), (to(xte), to(yte))
