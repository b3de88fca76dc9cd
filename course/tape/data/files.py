"""Datasets read from local text files: `TextLineDataset`, `CsvDataset`, `make_csv_dataset`; and
`tf.io.decode_csv` for CSV lines already in string tensors.

Lines and fields are read with Python's `open` and `csv` (uncompressed or GZIP files); string
values become string tensors (course.tape.string_tensor). `make_csv_dataset` infers each column's
type from the first rows as TF does (int32, then float32, else string) and returns batches of
`OrderedDict`s of columns, shuffled unless `shuffle=False`, repeated `num_epochs` times (forever
when None). Remote paths and other compressions are not supported.
"""
import collections
import csv
import glob
import gzip
import io

import numpy as np
import torch

from course.framework import dtypes
from course.tape.data.dataset import UNKNOWN, Dataset, register
from course.tape.string_tensor import StringTensor
from course.tape.tensor import to_numpy, to_tensor, wrap

__all__ = ["TextLineDataset", "CsvDataset", "make_csv_dataset", "decode_csv", "list_files"]


def _filenames(filenames):
    if isinstance(filenames, StringTensor):
        filenames = [b.decode() for b in filenames._array.reshape(-1)]
    elif isinstance(filenames, (str, bytes)):
        filenames = [filenames]
    return [f.decode() if isinstance(f, bytes) else str(f) for f in filenames]


def _open_text(path, compression_type):
    if compression_type in (None, ""):
        return open(path, "rb")
    if compression_type == "GZIP":
        return gzip.open(path, "rb")
    raise ValueError(f"compression_type must be '' or 'GZIP' here; got {compression_type!r}.")


def _lines(path, compression_type):
    with _open_text(path, compression_type) as f:
        for line in f:
            yield line[:-2] if line.endswith(b"\r\n") else line[:-1] if line.endswith(b"\n") else line


class TextLineDataset(Dataset):
    """One string element per line of each file, without its line ending."""

    _tf_name = "TextLineDatasetV2"

    def __init__(self, filenames, compression_type=None, buffer_size=None, num_parallel_reads=None, name=None):
        self._files, self._compression = _filenames(filenames), compression_type

    def _iter_generic(self):
        for path in self._files:
            for line in _lines(path, self._compression):
                yield StringTensor(np.array(line, dtype=object))

    def _cardinality(self):
        return UNKNOWN


def _default_of(spec):
    """record_defaults entry -> (DType, default value or None when the field is required)."""
    if isinstance(spec, dtypes.DType) or isinstance(spec, torch.dtype) or isinstance(spec, str) and \
            spec in ("float32", "float64", "int32", "int64", "string"):
        return dtypes.as_dtype(spec), None
    if isinstance(spec, StringTensor):
        value = spec.numpy()
        return dtypes.string, (value.reshape(-1)[0] if isinstance(value, np.ndarray) else value)
    arr = to_numpy(spec) if isinstance(spec, torch.Tensor) else np.asarray(spec)
    if arr.size == 0:
        return dtypes.as_dtype(arr.dtype if arr.dtype != np.float64 else np.float32), None
    if arr.dtype.kind in "USO":
        return dtypes.string, _as_bytes(arr.reshape(-1)[0])
    dt = dtypes.as_dtype(np.float32 if arr.dtype == np.float64 else np.int32 if arr.dtype == np.int64 else arr.dtype)
    return dt, arr.reshape(-1)[0]


def _as_bytes(v):
    return v if isinstance(v, bytes) else str(v).encode()


def _parse(field, dtype, default, na_value, where, record=None):
    if field is None or field == na_value or field == "":
        if default is None:
            from course.framework.errors import InvalidArgumentError
            at = "" if record is None else f" {record}"
            raise InvalidArgumentError(None, None, f"Field {where} is required but missing in record{at}!")
        field = default
    if dtype == dtypes.string:
        return StringTensor(np.array(_as_bytes(field), dtype=object))
    value = float(field) if dtype.is_floating else int(field)
    return to_tensor(np.array(value, dtype=dtype.as_numpy_dtype))


def _records(files, field_delim, use_quote_delim, header, compression_type):
    for path in files:
        with _open_text(path, compression_type) as f:
            text = io.TextIOWrapper(f, encoding="utf-8", newline="")
            reader = csv.reader(text, delimiter=field_delim, quoting=csv.QUOTE_MINIMAL if use_quote_delim
                                else csv.QUOTE_NONE)
            for i, record in enumerate(reader):
                if (header and i == 0) or not record:
                    continue
                yield record


class CsvDataset(Dataset):
    """Elements are tuples of one scalar per selected column, typed by `record_defaults`."""

    _tf_name = "CsvDatasetV2"

    def __init__(self, filenames, record_defaults, compression_type=None, buffer_size=None, header=False,
                 field_delim=",", use_quote_delim=True, na_value="", select_cols=None, exclude_cols=None, name=None):
        self._files, self._compression = _filenames(filenames), compression_type
        self._defaults = [_default_of(r) for r in record_defaults]
        self._header, self._delim, self._quote, self._na = header, field_delim, use_quote_delim, na_value
        self._select = list(select_cols) if select_cols is not None else None
        if self._select is not None and len(self._select) != len(self._defaults):
            raise ValueError(f"select_cols names {len(self._select)} columns but record_defaults has "
                             f"{len(self._defaults)} entries; give one default per selected column.")
        self._exclude = set(exclude_cols or ())

    def _iter_generic(self):
        for record in _records(self._files, self._delim, self._quote, self._header, self._compression):
            cols = self._select if self._select is not None else \
                [i for i in range(len(record)) if i not in self._exclude]
            if len(cols) < len(self._defaults) or (self._select is None and len(cols) != len(self._defaults)):
                from course.framework.errors import InvalidArgumentError
                raise InvalidArgumentError(None, None, f"Expect {len(self._defaults)} fields but have "
                                                       f"{len(cols)} in record")
            yield tuple(_parse(record[c] if c < len(record) else None, dt, default, self._na, c)
                        for c, (dt, default) in zip(cols, self._defaults))


def _infer(values):
    """TF's column type inference: int32 if every value is an int, float32 if a float, else string."""
    kinds = set()
    for v in values:
        if v == "":
            continue
        try:
            int(v)
            kinds.add("int")
            continue
        except ValueError:
            pass
        try:
            float(v)
            kinds.add("float")
        except ValueError:
            return dtypes.string
    if kinds <= {"int"} and kinds:
        return dtypes.int32
    return dtypes.float32 if kinds else dtypes.string


def make_csv_dataset(file_pattern, batch_size, column_names=None, column_defaults=None, label_name=None,
                     select_columns=None, field_delim=",", use_quote_delim=True, na_value="", header=True,
                     num_epochs=None, shuffle=True, shuffle_buffer_size=10000, shuffle_seed=None,
                     prefetch_buffer_size=None, num_parallel_reads=None, sloppy=False, num_rows_for_inference=100,
                     compression_type=None, ignore_errors=False, encoding="utf-8"):
    """`tf.data.experimental.make_csv_dataset`: batches of OrderedDict(column -> values)."""
    patterns = _filenames(file_pattern)
    files = sorted(f for p in patterns for f in (glob.glob(p) or [p]))
    rows = list(_records(files, field_delim, use_quote_delim, False, compression_type))
    if header:
        if not rows:
            raise ValueError(f"{files[0]} is empty; make_csv_dataset with header=True needs a header row.")
        names = rows[0] if column_names is None else list(column_names)
        body = [r for f in files for r in list(_records([f], field_delim, use_quote_delim, True, compression_type))]
    else:
        if column_names is None:
            raise ValueError("column_names must be given when the CSV file has no header (header=False).")
        names, body = list(column_names), rows
    keep = [n for n in names if select_columns is None or n in select_columns or names.index(n) in select_columns]
    if label_name is not None and label_name not in keep:
        raise ValueError(f"label_name {label_name!r} is not among the columns {keep}.")
    columns = collections.OrderedDict()
    for j, name in enumerate(names):
        if name not in keep:
            continue
        raw = [r[j] if j < len(r) else "" for r in body]
        if column_defaults is not None:
            dt, default = _default_of(column_defaults[keep.index(name)])
        else:
            dt, default = _infer(raw[:num_rows_for_inference]), None
        fill = default if default is not None else ("" if dt == dtypes.string else 0)
        raw = [fill if v in ("", na_value) else v for v in raw]
        if dt == dtypes.string:
            columns[name] = StringTensor(np.array([_as_bytes(v) for v in raw] + [b""], dtype=object)[:-1])
        else:
            columns[name] = to_tensor(np.array([float(v) if dt.is_floating else int(float(v)) for v in raw],
                                               dtype=dt.as_numpy_dtype))
    element = columns
    if label_name is not None:
        label = columns.pop(label_name)
        element = (columns, label)
    ds = Dataset.from_tensor_slices(element)
    if shuffle:                               # TF shuffles, then repeats
        ds = ds.shuffle(shuffle_buffer_size, seed=shuffle_seed)
    if num_epochs != 1:
        ds = ds.repeat(num_epochs)
    return ds.batch(batch_size).prefetch(prefetch_buffer_size or 1)


def decode_csv(records, record_defaults, field_delim=",", use_quote_delim=True, na_value="", select_cols=None,
               name=None):
    """`tf.io.decode_csv`: each string of `records` parsed as one CSV line; one tensor per column,
    shaped like `records`, typed (and defaulted) by `record_defaults`."""
    arr = records._array if isinstance(records, StringTensor) else np.asarray(
        StringTensor(records)._array if not isinstance(records, np.ndarray) else records, dtype=object)
    defaults = [_default_of(r) for r in record_defaults]
    lines = [b.decode("utf-8") if isinstance(b, bytes) else str(b) for b in arr.reshape(-1)]
    rows = list(csv.reader(lines, delimiter=field_delim,
                           quoting=csv.QUOTE_MINIMAL if use_quote_delim else csv.QUOTE_NONE))
    cols = list(select_cols) if select_cols is not None else list(range(len(defaults)))
    if len(cols) != len(defaults):
        raise ValueError(f"select_cols names {len(cols)} columns but record_defaults has {len(defaults)} entries.")
    out = []
    for j, (c, (dt, default)) in enumerate(zip(cols, defaults)):
        values = [_parse(row[c] if c < len(row) else None, dt, default, na_value, c, i) for i, row in enumerate(rows)]
        if dt == dtypes.string:
            column = np.empty(len(values), dtype=object)
            column[:] = [v._array[()] for v in values]
            out.append(StringTensor(column.reshape(arr.shape)))
        else:
            column = np.array([to_numpy(v) for v in values], dtype=dt.as_numpy_dtype).reshape(arr.shape)
            out.append(wrap(torch.from_numpy(column)))
    return out


def list_files(file_pattern, shuffle=None, seed=None, name=None):
    """`Dataset.list_files`: the matching paths as string elements, shuffled unless shuffle=False (TF)."""
    patterns = [file_pattern] if isinstance(file_pattern, (str, bytes)) else \
        [p.decode() if isinstance(p, bytes) else str(p) for p in np.asarray(
            file_pattern._array if isinstance(file_pattern, StringTensor) else file_pattern).reshape(-1)]
    names = sorted({f for p in patterns for f in glob.glob(p.decode() if isinstance(p, bytes) else p)})
    if not names:
        from course.framework.errors import InvalidArgumentError
        raise InvalidArgumentError(None, None, f"Expected 'tf.Tensor(False, shape=(), dtype=bool)' to be true. "
                                               f"Summarized data: b'No files matched pattern: "
                                               f"{', '.join(map(str, patterns))}'")
    ds = Dataset.from_tensor_slices(names)
    return ds.shuffle(len(names), seed=seed) if shuffle is None or shuffle else ds


register(list_files)
