"""The common `tf.strings` ops, elementwise over string tensors (course.tape.string_tensor).

They use Python's string functions; `regex_replace` uses Python's `re`, which agrees with TF's RE2
on the common syntax (classes, groups, `\\1` back-references in the rewrite) but not on RE2-only
forms. Ops that give rows of different lengths (`split` of a vector, `ngrams` of rows) return a
`RaggedTensor`.
"""
import re

import numpy as np
import torch

from course.framework import dtypes
from course.tape.ragged import RaggedTensor
from course.tape.string_tensor import StringTensor, object_array, to_bytes
from course.tape.tensor import to_numpy, wrap

__all__ = ["length", "split", "join", "reduce_join", "to_number", "as_string", "substr", "regex_replace",
           "regex_full_match", "unicode_decode", "unicode_encode", "unicode_split", "bytes_split", "format_", "upper",
           "lower", "strip", "decode_raw", "ngrams"]


def _arr(x):
    return object_array(x)


def _map(fn, x, otype=object):
    a = _arr(x)
    out = np.empty(a.shape, dtype=otype)
    for idx, v in np.ndenumerate(a):
        out[idx] = fn(v)
    return out


def _numeric(arr, dtype):
    return wrap(torch.from_numpy(np.array(arr, dtype=dtype, order="C")))   # keeps 0-d as 0-d


def _ragged_or_stack(rows, shape, dtype=None):
    """A list of 1-D results per element: a dense tensor for a scalar input, ragged for a vector."""
    if len(shape) == 0:
        row = rows[0]
        return StringTensor(np.array(row + [b""], dtype=object)[:-1]) if dtype is None else \
            _numeric(np.array(row, dtype=dtype), dtype)
    if len(shape) != 1:
        raise ValueError(f"This op takes a scalar or a vector here; got shape {tuple(shape)}.")
    return RaggedTensor.from_nested_rows(rows, dtype=dtype)


def length(input, unit="BYTE", name=None):
    """`tf.strings.length`: bytes per element, or characters with unit='UTF8_CHAR'."""
    if unit not in ("BYTE", "UTF8_CHAR"):
        raise ValueError(f"unit must be 'BYTE' or 'UTF8_CHAR'; got {unit!r}.")
    count = len if unit == "BYTE" else (lambda b: len(b.decode("utf-8")))
    return _numeric(_map(count, input, np.int64), np.int32)


def split(input, sep=None, maxsplit=-1, name=None):
    """`tf.strings.split`: a scalar gives a 1-D tensor, a vector a RaggedTensor (as TF)."""
    a = _arr(input)
    sep_b = to_bytes(sep) if sep is not None else None
    rows = [v.split(sep_b, maxsplit) if sep_b is not None else v.split(None, maxsplit) for v in a.reshape(-1)]
    return _ragged_or_stack(rows, a.shape)


def join(inputs, separator="", name=None):
    """`tf.strings.join`: elementwise concatenation of a list of string tensors."""
    arrays = np.broadcast_arrays(*[_arr(x) for x in inputs])
    sep = to_bytes(separator)
    out = np.empty(arrays[0].shape, dtype=object)
    for idx in np.ndindex(out.shape):
        out[idx] = sep.join(a[idx] for a in arrays)
    return StringTensor(out)


def reduce_join(inputs, axis=None, keepdims=False, separator="", name=None):
    a, sep = _arr(inputs), to_bytes(separator)
    if axis is None:
        out = np.array(sep.join(a.reshape(-1)), dtype=object)
        return StringTensor(out.reshape((1,) * a.ndim) if keepdims else out)
    out = np.apply_along_axis(lambda r: sep.join(r), axis, a) if a.size else a.sum(axis=axis)
    out = np.asarray(out, dtype=object)
    return StringTensor(np.expand_dims(out, axis) if keepdims else out)


def to_number(string_tensor, out_type=dtypes.float32, name=None):
    """`tf.strings.to_number`; an unparsable element raises TF's InvalidArgumentError text."""
    from course.framework.errors import InvalidArgumentError
    out = dtypes.as_dtype(out_type)
    parse = float if out.is_floating else int

    def one(b):
        try:
            return parse(b.decode("utf-8"))
        except ValueError:
            raise InvalidArgumentError(None, None, f"StringToNumberOp could not correctly convert string: "
                                                   f"{b.decode('utf-8', 'replace')}") from None
    return _numeric(_map(one, string_tensor, np.float64 if out.is_floating else np.int64), out.as_numpy_dtype)


def as_string(input, precision=-1, scientific=False, shortest=False, width=-1, fill="", name=None):
    """`tf.strings.as_string`: floats as '%f' (6 decimals) unless precision/shortest say otherwise."""
    arr = to_numpy(input) if isinstance(input, torch.Tensor) else np.asarray(input)
    if arr.dtype.kind == "f":
        spec = "%" + (fill if fill else "") + (str(width) if width > -1 else "") + \
            (f".{precision}" if precision > -1 else "") + ("g" if shortest else "e" if scientific else "f")
    elif arr.dtype.kind == "b":
        return StringTensor(np.vectorize(lambda v: b"true" if v else b"false", otypes=[object])(arr))
    else:
        spec = "%" + (fill if fill else "") + (str(width) if width > -1 else "") + "d"
    return StringTensor(np.vectorize(lambda v: (spec % v).encode(), otypes=[object])(arr))


def substr(input, pos, len, unit="BYTE", name=None):
    if unit not in ("BYTE", "UTF8_CHAR"):
        raise ValueError(f"unit must be 'BYTE' or 'UTF8_CHAR'; got {unit!r}.")
    pos, n = int(pos), int(len)

    def cut(b):
        s = b if unit == "BYTE" else b.decode("utf-8")
        if pos > (s.__len__()) or pos < -s.__len__():
            from course.framework.errors import InvalidArgumentError
            raise InvalidArgumentError(None, None,
                f"pos {pos} out of range for string b'{b.decode('utf-8', 'replace')}' "
                                                   f"at index 0")
        part = s[pos:pos + n] if pos >= 0 else s[pos:][:n]
        return part if unit == "BYTE" else part.encode("utf-8")
    return StringTensor(_map(cut, input))


def regex_replace(input, pattern, rewrite, replace_global=True, name=None):
    rx = re.compile(to_bytes(pattern))
    rw = to_bytes(rewrite)
    return StringTensor(_map(lambda b: rx.sub(rw, b, count=0 if replace_global else 1), input))


def regex_full_match(input, pattern, name=None):
    rx = re.compile(to_bytes(pattern))
    return _numeric(_map(lambda b: rx.fullmatch(b) is not None, input, bool), bool)


def upper(input, encoding="", name=None):
    return StringTensor(_map(bytes.upper, input))


def lower(input, encoding="", name=None):
    return StringTensor(_map(bytes.lower, input))


def strip(input, name=None):
    return StringTensor(_map(bytes.strip, input))


def _codec(encoding):
    name = encoding.upper().replace("_", "-")
    if name not in ("UTF-8", "UTF-16-BE", "UTF-32-BE"):
        raise ValueError(f"input_encoding must be UTF-8, UTF-16-BE or UTF-32-BE; got {encoding!r}.")
    return name.lower()


def unicode_decode(input, input_encoding, errors="replace", replacement_char=65533, name=None):
    """`tf.strings.unicode_decode`: code points (int32); a vector of strings gives a RaggedTensor."""
    a, codec = _arr(input), _codec(input_encoding)
    rows = [[ord(c) for c in b.decode(codec, "strict" if errors == "strict" else "replace")] for b in a.reshape(-1)]
    return _ragged_or_stack(rows, a.shape, np.int32)


def unicode_split(input, input_encoding, errors="replace", replacement_char=65533, name=None):
    a, codec = _arr(input), _codec(input_encoding)
    rows = [[c.encode(codec) for c in b.decode(codec, "replace")] for b in a.reshape(-1)]
    return _ragged_or_stack(rows, a.shape)


def unicode_encode(input, output_encoding, errors="replace", replacement_char=65533, name=None):
    """`tf.strings.unicode_encode`: code points (last axis, dense or ragged) -> strings."""
    codec = _codec(output_encoding)
    if isinstance(input, RaggedTensor):
        return StringTensor(np.array([_encode_row(r, codec) for r in input.to_list()] + [b""], dtype=object)[:-1])
    arr = to_numpy(input) if isinstance(input, torch.Tensor) else np.asarray(input)
    if arr.ndim == 1:
        return StringTensor(np.array(_encode_row(arr.tolist(), codec), dtype=object))
    rows = arr.reshape(-1, arr.shape[-1])
    out = np.empty(len(rows), dtype=object)
    out[:] = [_encode_row(r.tolist(), codec) for r in rows]
    return StringTensor(out.reshape(arr.shape[:-1]))


def _encode_row(codes, codec):
    return "".join(chr(int(c)) for c in codes).encode(codec)


def bytes_split(input, name=None):
    a = _arr(input)
    rows = [[bytes([c]) for c in b] for b in a.reshape(-1)]
    return _ragged_or_stack(rows, a.shape)


def _summarize(value, summarize):
    """A tensor as tf.strings.format shows it: numpy-like, numbers in %g, '...' past `summarize`."""
    if isinstance(value, StringTensor):
        arr = value._array
    elif isinstance(value, torch.Tensor):
        arr = to_numpy(value)
    else:
        arr = np.asarray(value)

    def item(v):
        if isinstance(v, bytes):
            return f'"{v.decode("utf-8", "replace")}"'
        if isinstance(v, (bool, np.bool_)):
            return "1" if v else "0"
        return f"{v:g}" if isinstance(v, (float, np.floating)) else str(v)

    def show(a):
        if a.ndim == 0:
            return item(a[()])
        parts = [show(x) for x in a] if summarize < 0 or len(a) <= 2 * summarize else \
            [show(x) for x in a[:summarize]] + ["..."] + [show(x) for x in a[-summarize:]]
        return "[" + (" " if a.ndim == 1 else "\n" + " " * 0).join(parts) + "]"
    return show(arr)


def format_(template, inputs, placeholder="{}", summarize=3, name=None):
    """`tf.strings.format`: each `{}` of the template replaced by one input tensor's summary."""
    if not isinstance(inputs, (list, tuple)):
        inputs = [inputs]
    pieces = template.split(placeholder)
    if len(pieces) - 1 != len(inputs):
        raise ValueError(f"num placeholders in template and num inputs must match: {len(pieces) - 1} vs. "
                         f"{len(inputs)}")
    text = pieces[0] + "".join(_summarize(v, summarize) + p for v, p in zip(inputs, pieces[1:]))
    return StringTensor(np.array(text.encode("utf-8"), dtype=object))


def decode_raw(input_bytes, out_type, little_endian=True, fixed_length=None, name=None):
    """`tf.io.decode_raw`: each string's bytes read as `out_type` values (a new last axis)."""
    dt = np.dtype(dtypes.as_dtype(out_type).as_numpy_dtype).newbyteorder("<" if little_endian else ">")
    a = _arr(input_bytes)
    rows = [np.frombuffer(b if fixed_length is None else b[:fixed_length].ljust(fixed_length, b"\0"), dtype=dt)
            for b in a.reshape(-1)]
    if len({len(r) for r in rows}) > 1:
        raise ValueError("DecodeRaw requires input strings to all be the same size; pass fixed_length.")
    width = len(rows[0]) if rows else 0
    out = np.stack(rows).reshape(a.shape + (width,)) if rows else np.zeros(a.shape + (0,), dt)
    return _numeric(out.astype(dt.newbyteorder("=")), out.dtype.newbyteorder("="))


def _ngrams_of(tokens, widths, sep, pad, padding_width, preserve_short):
    out = []
    for n in widths:
        width = (n - 1) if padding_width is None else min(int(padding_width), n - 1)
        row = ([pad[0]] * width if pad else []) + list(tokens) + ([pad[1]] * width if pad else [])
        grams = [sep.join(row[i:i + n]) for i in range(len(row) - n + 1)]
        out.extend(grams)
    if not out and preserve_short and tokens:
        out = [sep.join(tokens)]
    return out


def ngrams(data, ngram_width, separator=" ", pad_values=None, padding_width=None, preserve_short_sequences=False,
           name=None):
    """`tf.strings.ngrams`: n-grams of the last axis (a vector gives a vector, rows give a RaggedTensor)."""
    widths = [int(ngram_width)] if isinstance(ngram_width, (int, np.integer)) else [int(w) for w in ngram_width]
    sep = to_bytes(separator)
    pad = None
    if pad_values is not None:
        pad = (to_bytes(pad_values[0]), to_bytes(pad_values[1])) if isinstance(pad_values, (tuple, list)) \
            else (to_bytes(pad_values),) * 2
    if isinstance(data, RaggedTensor):
        rows = [_ngrams_of(r, widths, sep, pad, padding_width, preserve_short_sequences) for r in data.to_list()]
        return RaggedTensor.from_nested_rows(rows)
    a = _arr(data)
    if a.ndim != 1:
        raise ValueError(f"tf.strings.ngrams here takes a vector of tokens or a RaggedTensor of rows; got shape "
                         f"{a.shape}.")
    grams = _ngrams_of(list(a), widths, sep, pad, padding_width, preserve_short_sequences)
    return StringTensor(np.array(grams + [b""], dtype=object)[:-1])
