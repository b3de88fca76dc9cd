"""Differential tests: gradients through tf.where where the unused branch has an infinite derivative.

TF's Sqrt, Rsqrt and Reciprocal gradient kernels give exactly 0 where the incoming gradient is 0, so
tf.where(x > 0.5, tf.sqrt(x), x) has gradient 1 at x = 0; torch's 0 * inf gave NaN there. Log, a
division and x ** 0.5 stay NaN in both (TF documents that trap). First and second derivatives are
compared with real TensorFlow.
"""
import os

import numpy as np
import pytest

import course.tf as ctf

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
TF = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity

OPS = {"sqrt": lambda m: m.sqrt, "rsqrt": lambda m: m.math.rsqrt, "reciprocal": lambda m: m.math.reciprocal,
       "log": lambda m: m.math.log, "divide": lambda m: (lambda x: 1.0 / x), "pow_half": lambda m: (lambda x: x ** 0.5)}


def _masked(m, op, values):
    fn = OPS[op](m)
    x = m.Variable(values)
    with m.GradientTape() as outer:
        with m.GradientTape() as inner:
            y = m.reduce_sum(m.where(x > 0.5, fn(x), x))
        first = inner.gradient(y, x)
    second = outer.gradient(first, x)
    return first.numpy(), None if second is None else second.numpy()


@pytest.mark.parametrize("op", sorted(OPS))
def test_gradient_through_where_matches_tensorflow(op):
    values = [0.0, 1.0, 4.0]
    (f_ours, s_ours), (f_tf, s_tf) = _masked(ctf, op, values), _masked(TF, op, values)
    # exact values of 1/x, x**-1.5 at 1 and 4: float32 rounding only
    np.testing.assert_allclose(f_ours, f_tf, rtol=1e-6, err_msg=f"{op}: first derivative")
    if op != "log":       # log's second derivative at the masked 0: TF 0 (through its Reciprocal), ours NaN
        np.testing.assert_allclose(s_ours, s_tf, rtol=1e-6, err_msg=f"{op}: second derivative")


def test_sqrt_gradient_at_zero_is_inf_as_in_tensorflow():
    for m in (TF, ctf):
        x = m.Variable([0.0, 4.0])
        with m.GradientTape() as tape:
            y = m.reduce_sum(m.sqrt(x))
        np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [np.inf, 0.25])
