"""Trigonometric and related elementwise ops in graphs, against TensorFlow 2.21: values and gradients
in a TF1 session, values and tape gradients inside tf.function (traced, not run eagerly).

Tolerances: each value is one float32 transcendental function, which TensorFlow (Eigen) and torch
(SLEEF) may round a few ulp apart, so rtol 2e-6 (about 16 ulp); a gradient is two or three such
ops in sequence, so rtol 5e-6. atol 1e-7 covers exact zeros such as sin(0).
"""
import warnings

import numpy as np
import pytest

import course.tf.compat.v1 as ktf1
from course import tf as ktf

tf = pytest.importorskip("tensorflow")

SMOOTH = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "erf", "expm1"]
STEPS = ["ceil", "round"]                                            # no gradient in TensorFlow
X = np.array([-0.9, -0.5, -0.25, 0.0, 0.3, 0.5, 0.75], np.float32)  # inside asin's and acos's domain
X_STEPS = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.3, -1.7], np.float32)   # halves: round to even
W = np.arange(1, 9, dtype=np.float32)


def _tf1_value_and_grad(lib, name, x):
    g = lib.Graph()
    with g.as_default():                   # graph mode inside the Graph's context; eager stays on globally
        p = lib.placeholder(lib.float32, shape=[len(x)])
        y = getattr(lib, name)(p)
        (dx,) = lib.gradients(lib.reduce_sum(y * W[:len(x)]), [p])
        with lib.Session(graph=g) as sess:
            return sess.run(y, {p: x}), (None if dx is None else sess.run(dx, {p: x}))


@pytest.mark.parametrize("name", SMOOTH + STEPS)
def test_tf1_session_values_and_gradients_match_tensorflow(name):
    x = X_STEPS if name in STEPS else X
    ours, our_grad = _tf1_value_and_grad(ktf1, name, x)
    theirs, their_grad = _tf1_value_and_grad(tf.compat.v1, name, x)
    np.testing.assert_allclose(ours, theirs, rtol=2e-6, atol=1e-7)
    if name in STEPS:
        assert our_grad is None and their_grad is None
    else:
        np.testing.assert_allclose(our_grad, their_grad, rtol=5e-6, atol=1e-7)


@pytest.mark.parametrize("name", SMOOTH)
def test_traced_function_values_and_tape_gradients_match_tensorflow(name):
    def body(lib):
        def f(x):
            with lib.GradientTape() as tape:
                tape.watch(x)
                y = getattr(lib.math, name)(x)
                total = lib.reduce_sum(y * W[:len(X)])
            return y, tape.gradient(total, x)
        return f

    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # a fall-back to eager would warn: it must trace
        ours = ktf.function(body(ktf))(ktf.constant(X))
    theirs = tf.function(body(tf))(tf.constant(X))
    for a, b, rtol in zip(ours, theirs, (2e-6, 5e-6)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=rtol, atol=1e-7)


def test_the_names_exist_where_tensorflow_has_them():
    for name in SMOOTH + STEPS:
        assert callable(getattr(ktf1, name)) and callable(getattr(ktf1.math, name)), name
        assert hasattr(tf.compat.v1, name) and hasattr(tf.compat.v1.math, name), name
