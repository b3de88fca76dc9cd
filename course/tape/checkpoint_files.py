"""Checkpoint files: TensorFlow's layout and format, holding data and never code.

A checkpoint `<prefix>` is two files, as TF names them, plus the `checkpoint` state file of its folder:

    <prefix>.index                  TF's table of entries: per key, dtype, shape, offset, length, CRC32C;
                                    the object graph is the string tensor `_CHECKPOINTABLE_OBJECT_GRAPH`
    <prefix>.data-00000-of-00001    the values, raw little-endian bytes one after another
    checkpoint                      `model_checkpoint_path: "ckpt-3"` and friends (TF's text format)

`write_checkpoint` writes TensorFlow's own format (course.tape.tensor_bundle), so TensorFlow restores a
checkpoint written here and the course restores one TensorFlow wrote; with `tf_format=False` it writes the
same content with a JSON index (what SavedModel constants use). Reading parses bytes and numbers only
(`np.frombuffer`, no pickle): a hostile file can fail to load, never run anything. Sizes are checked
before anything is read (index size, rank, every value inside the data file, byte counts that match the
shapes) and CRCs when values are read. Files are written to a temporary name and renamed.
`tf.compat.v1.train.Saver` writes the same format with its variables' names as keys and no object graph,
as TF1's Saver does. `CheckpointReader` also reads the checkpoints that earlier versions of that Saver
wrote here (a JSON index; their data is a `torch.save`d dict of tensors, loaded with `weights_only=True`).
"""
import json
import os
import re
import time

import numpy as np
import torch

from course.atomic_file import atomic_write
from course.framework import dtypes as _dt
from course.framework.errors import DataLossError, NotFoundError
from course.tape import tensor_bundle

__all__ = ["DATA_SUFFIX", "OBJECT_GRAPH_KEY", "FORMAT", "write_checkpoint", "read_index", "CheckpointReader",
           "load_checkpoint", "list_variables", "latest_checkpoint", "read_state", "write_state",
           "checkpoint_exists", "MAX_INDEX_BYTES"]

DATA_SUFFIX = ".data-00000-of-00001"
OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
FORMAT = "course.tf checkpoint v1"              # the JSON index
_BUNDLE = "tensorflow tensor bundle"             # TF's table index
_TF1_FORMAT = "course.graph checkpoint v1"       # what tf.compat.v1.train.Saver wrote before TF's format
MAX_INDEX_BYTES = 64 << 20
_MAX_RANK = 32
_DTYPES = ("float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool",
           "complex64", "complex128")


def _bytes_of(tensor):
    """(dtype name, shape, little-endian bytes) of a tensor."""
    t = tensor.detach().to("cpu").contiguous()
    name = _dt.name(t.dtype)
    if name not in _DTYPES:
        raise TypeError(f"Cannot save a value of dtype {name} in a checkpoint; expected one of {', '.join(_DTYPES)}.")
    if t.dtype == torch.bfloat16:
        arr = t.view(torch.int16).numpy()
    else:
        arr = t.numpy()
    return name, list(t.shape), arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()


def write_checkpoint(prefix, values, object_graph, tf_format=True):
    """Write `values` ({key: tensor}) and the object graph (JSON-able; None for none, as TF1's Saver
    writes) under `prefix`, data first."""
    prefix = os.fspath(prefix)
    entries, chunks, offset, rows = {}, [], 0, []
    for key, tensor in sorted(values.items()):
        dtype, shape, raw = _bytes_of(torch.as_tensor(tensor))
        entries[key] = {"dtype": dtype, "shape": shape, "offset": offset, "length": len(raw)}
        rows.append((key, dtype, shape, offset, len(raw), tensor_bundle.masked_crc32c(raw) if tf_format else 0))
        chunks.append(raw)
        offset += len(raw)
    if tf_format and object_graph is not None:
        raw, crc = tensor_bundle.encode_string_tensor([tensor_bundle.encode_object_graph(object_graph)])
        rows.append((OBJECT_GRAPH_KEY, "string", [], offset, len(raw), crc))
        chunks.append(raw)

    def write_data(tmp):
        with open(tmp, "wb") as f:
            for chunk in chunks:
                f.write(chunk)

    def write_index(tmp):
        if tf_format:
            with open(tmp, "wb") as f:
                f.write(tensor_bundle.write_index(rows))
            return
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"format": FORMAT, "saved": time.time(), "object_graph": object_graph, "tensors": entries}, f)

    atomic_write(prefix + DATA_SUFFIX, write_data)
    atomic_write(prefix + ".index", write_index)
    return prefix


def checkpoint_exists(prefix):
    return os.path.isfile(os.fspath(prefix) + ".index")


def _corrupt(prefix, why):
    return DataLossError(None, None, f"Unable to read checkpoint {prefix}: {why}. The file is damaged or was not "
                                     "written by tf.train.Checkpoint / tf.compat.v1.train.Saver here; write it again.")


def read_index(prefix):
    """The parsed, checked `.index` of a checkpoint: {"format", "object_graph", "tensors"}."""
    path = prefix + ".index"
    if not os.path.isfile(path):
        raise NotFoundError(None, None, f"Error when restoring from checkpoint or SavedModel at {prefix}: Unsuccessful "
                            f"TensorSliceReader constructor: Failed to find any matching files for {prefix}\nPlease "
                            "double-check that the path is correct. You may be missing the checkpoint suffix (e.g. "
                            "the '-1' in 'path/to/ckpt-1').")
    size = os.path.getsize(path)
    if size > MAX_INDEX_BYTES:
        raise _corrupt(prefix, f"its index is {size} bytes, more than the {MAX_INDEX_BYTES} allowed")
    with open(path, "rb") as f:
        raw = f.read()
    if tensor_bundle.is_bundle(raw):
        return _read_bundle(prefix, raw)
    if not raw.lstrip().startswith(b"{"):
        raise _corrupt(prefix, "its index is neither TensorFlow's table nor the JSON index written here")
    try:
        index = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _corrupt(prefix, f"its index is not valid JSON ({exc})") from None
    if not isinstance(index, dict) or index.get("format") not in (FORMAT, _TF1_FORMAT):
        raise _corrupt(prefix, "its index does not say it is a checkpoint")
    if index["format"] == _TF1_FORMAT:
        variables = index.get("variables")
        if not isinstance(variables, dict):
            raise _corrupt(prefix, "its index lists no variables")
        return index
    tensors = index.get("tensors")
    if not isinstance(tensors, dict):
        raise _corrupt(prefix, "its index lists no tensors")
    data_size = os.path.getsize(prefix + DATA_SUFFIX) if os.path.isfile(prefix + DATA_SUFFIX) else None
    for key, e in tensors.items():
        _check_entry(prefix, key, e, data_size)
    return index


def _read_bundle(prefix, raw):
    """A TensorFlow-format index: its entries checked, and its object graph read and decoded."""
    try:
        entries = tensor_bundle.read_index(raw, where=f"{prefix}.index")
    except tensor_bundle.BundleError as exc:
        raise _corrupt(prefix, str(exc)) from None
    data_path = prefix + DATA_SUFFIX
    data_size = os.path.getsize(data_path) if os.path.isfile(data_path) else None
    tensors, graph = {}, None
    for key, e in entries.items():
        if e["dtype"] == "string":
            if key != OBJECT_GRAPH_KEY:
                continue                              # other string values (rare in checkpoints) are skipped
            if data_size is None:
                raise NotFoundError(None, None, f"Checkpoint data file {data_path} is missing.")
            if e["offset"] + e["length"] > data_size:
                raise _corrupt(prefix, f"its object graph reaches past the end of the data file ({e['offset']} + "
                                       f"{e['length']} > {data_size} bytes)")
            if e["shape"] != [] or e["length"] > MAX_INDEX_BYTES:
                raise _corrupt(prefix, "its object graph entry is invalid")
            with open(data_path, "rb") as f:
                f.seek(e["offset"])
                blob = f.read(e["length"])
            try:
                proto = tensor_bundle.decode_string_tensor(blob, 1, f"{prefix} object graph", crc=e["crc"])[0]
                graph = tensor_bundle.decode_object_graph(proto, f"{prefix} object graph")
            except tensor_bundle.BundleError as exc:
                raise _corrupt(prefix, str(exc)) from None
            continue
        _check_entry(prefix, key, e, data_size)
        tensors[key] = e
    return {"format": _BUNDLE, "tensors": tensors, "object_graph": graph,
            "graph_bytes": None if graph is None else tensor_bundle.encode_object_graph(graph)}


def _check_entry(prefix, key, e, data_size):
    if not isinstance(e, dict) or e.get("dtype") not in _DTYPES:
        raise _corrupt(prefix, f"entry {key!r} has no supported dtype")
    shape = e.get("shape")
    if (not isinstance(shape, list) or len(shape) > _MAX_RANK
            or not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d for d in shape)):
        raise _corrupt(prefix, f"entry {key!r} has an invalid shape {shape!r}")
    offset, length = e.get("offset"), e.get("length")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (offset, length)):
        raise _corrupt(prefix, f"entry {key!r} has an invalid offset or length")
    itemsize = 2 if e["dtype"] == "bfloat16" else np.dtype(e["dtype"]).itemsize
    count = 1
    for d in shape:
        count *= d
    if count * itemsize != length:
        raise _corrupt(prefix, f"entry {key!r} holds {length} bytes, its shape {shape} and dtype {e['dtype']} "
                               f"need {count * itemsize}")
    if data_size is not None and offset + length > data_size:
        raise _corrupt(prefix, f"entry {key!r} reaches past the end of the data file ({offset + length} > "
                               f"{data_size} bytes)")


class CheckpointReader:
    """`tf.train.load_checkpoint`'s reader: `get_tensor`, `has_tensor`, the shape and dtype maps."""

    def __init__(self, prefix):
        self._prefix = os.fspath(prefix)
        self._index = read_index(self._prefix)
        self._tf1 = self._index["format"] == _TF1_FORMAT
        self._tf1_tensors = None

    def _entries(self):
        if self._tf1:
            return {k: {"dtype": v.get("dtype"), "shape": v.get("shape")} for k, v in self._index["variables"].items()}
        out = dict(self._index["tensors"])
        if self._index.get("object_graph") is not None:
            out[OBJECT_GRAPH_KEY] = {"dtype": "string", "shape": []}
        return out

    def get_variable_to_shape_map(self):
        return {k: list(e["shape"]) for k, e in self._entries().items()}

    def get_variable_to_dtype_map(self):
        return {k: _dt.as_dtype(e["dtype"]) for k, e in self._entries().items()}

    def has_tensor(self, key):
        return key in self._entries()

    @property
    def object_graph(self):
        return None if self._tf1 else self._index.get("object_graph")

    def _load_tf1(self):
        if self._tf1_tensors is None:
            try:
                blob = torch.load(self._prefix + DATA_SUFFIX, map_location="cpu", weights_only=True)
            except FileNotFoundError:
                raise NotFoundError(None, None,
                                    f"Checkpoint data file {self._prefix}{DATA_SUFFIX} is missing.") from None
            except Exception as exc:
                raise _corrupt(self._prefix, f"its data file cannot be read ({exc})") from None
            tensors = blob.get("tensors") if isinstance(blob, dict) and blob.get("format") == _TF1_FORMAT else None
            if not isinstance(tensors, dict):
                raise _corrupt(self._prefix, "its data file holds no tensors")
            self._tf1_tensors = tensors
        return self._tf1_tensors

    def get_tensor(self, key):
        """The value saved under `key`, as a numpy array (the object graph as bytes)."""
        entries = self._entries()
        if key not in entries:
            raise NotFoundError(None, None, f"Key {key} not found in checkpoint")
        if self._tf1:
            value = self._load_tf1().get(key)
            if not isinstance(value, torch.Tensor):
                raise _corrupt(self._prefix, f"entry {key!r} is not a tensor")
            return value.numpy()
        if key == OBJECT_GRAPH_KEY:           # TF's serialized TrackableObjectGraph (JSON for a JSON index)
            if self._index["format"] == _BUNDLE:
                return self._index["graph_bytes"]
            return json.dumps(self._index.get("object_graph")).encode("utf-8")
        e = entries[key]
        path = self._prefix + DATA_SUFFIX
        try:
            with open(path, "rb") as f:
                f.seek(e["offset"])
                raw = f.read(e["length"])
        except FileNotFoundError:
            raise NotFoundError(None, None, f"Checkpoint data file {path} is missing.") from None
        if len(raw) != e["length"]:
            raise _corrupt(self._prefix, f"entry {key!r} is cut short")
        if e.get("crc") is not None and tensor_bundle.masked_crc32c(raw) != e["crc"]:
            raise _corrupt(self._prefix, f"the checksum of entry {key!r} does not match its data")
        if e["dtype"] == "bfloat16":
            bits = torch.from_numpy(np.frombuffer(raw, "<i2").copy())
            return bits.view(torch.bfloat16).reshape(e["shape"]).float().numpy()
        return np.frombuffer(raw, np.dtype(e["dtype"]).newbyteorder("<")).astype(e["dtype"]).reshape(e["shape"])

    def debug_string(self):
        return "".join(f"{k} ({e['dtype']}) {e['shape']}\n" for k, e in sorted(self._entries().items())).encode()


# -- the `checkpoint` state file ------------------------------------------------------------------------------
_LINE = re.compile(r'\s*(model_checkpoint_path|all_model_checkpoint_paths|all_model_checkpoint_timestamps|'
                   r'last_preserved_timestamp):\s*"?(.*?)"?\s*$')


def read_state(directory, latest_filename="checkpoint"):
    """The `checkpoint` file of `directory` as {"model", "all", "timestamps", "last_preserved"}, or None."""
    path = os.path.join(directory, latest_filename or "checkpoint")
    if not os.path.isfile(path) or os.path.getsize(path) > (1 << 20):
        return None
    state = {"model": None, "all": [], "timestamps": [], "last_preserved": None}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = _LINE.match(line)
            if not m:
                continue
            field, value = m.groups()
            if field in ("model_checkpoint_path", "all_model_checkpoint_paths"):
                value = value if os.path.isabs(value) else os.path.join(directory, value)
            try:
                if field == "model_checkpoint_path":
                    state["model"] = value
                elif field == "all_model_checkpoint_paths":
                    state["all"].append(value)
                elif field == "all_model_checkpoint_timestamps":
                    state["timestamps"].append(float(value))
                else:
                    state["last_preserved"] = float(value)
            except ValueError:
                continue
    return state if state["model"] else None


def write_state(directory, model, all_paths, timestamps=None, last_preserved=None, latest_filename="checkpoint"):
    """Write the `checkpoint` file (paths relative to `directory`, as TF writes them)."""
    rel = lambda p: os.path.relpath(p, directory) if os.path.isabs(p) or os.path.dirname(p) else p  # noqa: E731
    lines = [f'model_checkpoint_path: "{rel(model)}"'] + [f'all_model_checkpoint_paths: "{rel(p)}"' for p in all_paths]
    lines += [f"all_model_checkpoint_timestamps: {t!r}" for t in timestamps or ()]
    if last_preserved is not None:
        lines.append(f"last_preserved_timestamp: {last_preserved!r}")
    data = ("\n".join(lines) + "\n").encode("utf-8")

    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(data)
    atomic_write(os.path.join(directory, latest_filename or "checkpoint"), write)


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """`tf.train.latest_checkpoint`: the newest checkpoint's prefix named in the folder's state file, or None."""
    state = read_state(os.fspath(checkpoint_dir), latest_filename or "checkpoint")
    if state and checkpoint_exists(state["model"]):
        return state["model"]
    return None


def _prefix_of(ckpt_dir_or_file):
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        found = latest_checkpoint(path)
        if found is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given directory {path}")
        return found
    return path


def load_checkpoint(ckpt_dir_or_file):
    """`tf.train.load_checkpoint`: a `CheckpointReader` for a prefix, or for the newest one in a folder."""
    return CheckpointReader(_prefix_of(ckpt_dir_or_file))


def list_variables(ckpt_dir_or_file):
    """`tf.train.list_variables`: [(key, shape)] sorted by key, as TF lists them."""
    reader = load_checkpoint(ckpt_dir_or_file)
    return [(k, s) for k, s in sorted(reader.get_variable_to_shape_map().items())]
