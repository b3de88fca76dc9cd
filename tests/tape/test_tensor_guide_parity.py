"""The string, ragged and sparse sections of TF's tensor guide, run on both; the printed text must match."""
import contextlib
import io
import os

import pytest

import course.tf as ctf

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
TF = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity


def _guide(tf):
    ragged_list = [[0, 1, 2, 3], [4, 5], [6, 7, 8], [9]]
    try:
        tf.constant(ragged_list)
    except Exception as e:
        print(f"{type(e).__name__}: {e}")
    ragged_tensor = tf.ragged.constant(ragged_list)
    print(ragged_tensor)
    print(ragged_tensor.shape)
    scalar_string_tensor = tf.constant("Gray wolf")
    print(scalar_string_tensor)
    tensor_of_strings = tf.constant(["Gray wolf", "Quick brown fox", "Lazy dog"])
    print(tensor_of_strings)
    print(repr(tf.constant("🥳👍")))
    print(tf.strings.split(scalar_string_tensor, sep=" "))
    print(tf.strings.split(tensor_of_strings))
    text = tf.constant("1 10 100")
    print(tf.strings.to_number(tf.strings.split(text, " ")))
    byte_strings = tf.strings.bytes_split(tf.constant("Duck"))
    byte_ints = tf.io.decode_raw(tf.constant("Duck"), tf.uint8)
    print("Byte strings:", byte_strings)
    print("Bytes:", byte_ints)
    unicode_bytes = tf.constant("アヒル 🦆")
    print(tf.strings.unicode_split(unicode_bytes, "UTF-8"))
    print(tf.strings.unicode_decode(unicode_bytes, "UTF-8"))
    sparse_tensor = tf.sparse.SparseTensor(indices=[[0, 0], [1, 2]], values=[1, 2], dense_shape=[3, 4])
    print(sparse_tensor, "\n")
    print(tf.sparse.to_dense(sparse_tensor))
    print(tf.float32, tf.constant([1.0]).dtype == tf.float32)


def _output(tf):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        _guide(tf)
    return out.getvalue()


def test_tensor_guide_sections_print_the_same():
    assert _output(ctf) == _output(TF)
