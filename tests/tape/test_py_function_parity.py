"""tf.py_function (call and decorator forms) against real TensorFlow."""
import os

import numpy as np
import pytest

import course.tf as ctf

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
TF = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity


def _decorated(m):
    @m.py_function(Tout=m.float32)
    def g(x):
        return x ** 2
    return g(m.constant(3.0))


def _gradient(m):
    x = m.Variable(2.0)
    with m.GradientTape() as tape:
        y = m.py_function(lambda a: a * a * a, [x], m.float32)
    return tape.gradient(y, x)


CASES = {
    "call": lambda m: m.py_function(lambda x, y: x * y + 1.0, [m.constant(2.0), 3.0], m.float32),
    "two_outputs": lambda m: m.py_function(lambda x: [x, x * 2], [m.constant([1, 2])], [m.int32, m.int32]),
    "decorator": _decorated,
    "gradient": _gradient,
    "string": lambda m: m.py_function(lambda s: m.strings.upper(s), [m.constant("ab")], m.string),
    "numpy_result_cast": lambda m: m.py_function(lambda a: np.float64(a.numpy()) / 2, [m.constant(3)], m.float32),
    "no_outputs": lambda m: m.py_function(lambda: None, [], []),
    "in_dataset": lambda m: list(m.data.Dataset.range(3).map(
        lambda v: m.py_function(lambda a: a.numpy() * 10, [v], m.int64)).as_numpy_iterator()),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_py_function_as_tensorflow(case):
    assert repr(CASES[case](ctf)) == repr(CASES[case](TF))


def test_wrong_output_dtype_is_tfs_value_error():
    for m in (TF, ctf):
        with pytest.raises((ValueError, m.errors.InvalidArgumentError), match="Tensor conversion requested dtype "
                                                                              "float32 for Tensor with dtype int32"):
            m.py_function(lambda x: x * 2, [m.constant([1, 2])], m.float32)
