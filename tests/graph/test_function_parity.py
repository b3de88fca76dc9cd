"""tf.function against real TensorFlow 2.21: which calls trace anew (numpy scalars are 0-d tensors to
tf.function, as numpy arrays are, so they do not retrace per value), and what a traced function returns
(Python numbers and numpy values in its outputs come back as tensors, None stays None)."""
import os

import numpy as np
import pytest

import course.tf as ctf

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
TF = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity


def trace_counts(tf):
    """How many new traces each call of one tf.function made."""
    traces = []

    @tf.function
    def f(x, n):
        traces.append(1)
        return x * n
    calls = [(tf.constant(1.0), 2), (tf.constant(2.0), 2), (tf.constant(2.0), 3), (tf.constant([1.0, 2.0]), 2),
             (tf.constant(1.0), tf.constant(2.0)), (tf.constant(3.0), tf.constant(4.0)), (1.0, 2), (1.0, 2),
             (2.0, 2), (np.float32(1.0), 2), (np.float32(5.0), 2), (np.array([1.0, 2.0], np.float32), 2),
             (np.array([3.0, 2.0], np.float32), 2), (np.float64(2.0), 2), (np.float64(3.0), 2), (np.int32(4), 2)]
    counts, values = [], []
    for args in calls:
        before = len(traces)
        out = f(*args)
        counts.append(len(traces) - before)
        values.append((np.asarray(out).tolist(), np.asarray(out).dtype.name))
    return counts, values


def test_numpy_scalars_trace_as_tensors_not_by_value():
    """We retraced for np.float32(1.0) and again for np.float32(5.0) (keyed by value, as Python numbers
    are); TF keys them by dtype and shape like tensors and numpy arrays."""
    ref, got = trace_counts(TF), trace_counts(ctf)
    assert got == ref
    assert ref[0][9:11] == [0, 0]


def test_python_values_in_the_outputs_come_back_as_tensors():
    def fn(tf):
        @tf.function
        def r(x):
            return {"a": 3, "b": [x, 2.5, None, True, np.float32(1.5), np.arange(3)]}
        out = r(tf.constant(1.0))
        return {"a": (type(out["a"]).__name__, out["a"].numpy().tolist(), out["a"].numpy().dtype.name)}, \
            [None if v is None else (type(v).__name__, v.numpy().tolist(), np.asarray(v.numpy()).dtype.name)
             for v in out["b"]]
    assert fn(ctf) == fn(TF)


def test_split_unstack_and_slice_trace_and_differentiate():
    """They had no graph form (NoGraphForm: the function ran eagerly with a warning)."""
    def fn(tf):
        @tf.function
        def f(x):
            a, b = tf.split(x, 2, axis=1)
            return tf.unstack(a)[0] + tf.slice(b, [1, 0], [1, -1])[0]
        x = tf.Variable(np.arange(8, dtype=np.float32).reshape(2, 4))
        with tf.GradientTape() as tape:
            y = tf.reduce_sum(f(x) ** 2)
        return f(x).numpy().tolist(), tape.gradient(y, x).numpy().tolist(), len(f.get_concrete_function(x).graph
                                                                                .get_operations()) > 0
    assert fn(ctf) == fn(TF) == ([6.0, 8.0], [[12.0, 16.0, 0.0, 0.0], [0.0, 0.0, 12.0, 16.0]], True)
