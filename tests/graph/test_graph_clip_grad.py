"""The gradient of tf.clip_by_value against real TensorFlow 2.21 (TF1 graph mode): exactly at the
bounds, one float inside and outside them, NaN and infinities, in float32 and float64, with Python
bounds and with tensor bounds."""
import numpy as np
import pytest

import course.tf.compat.v1 as ctf

tf = pytest.importorskip("tensorflow")


def _points(dtype, lo, hi):
    lo_, hi_ = dtype(lo), dtype(hi)
    return np.array([lo_, hi_, np.nextafter(lo_, dtype(-np.inf)), np.nextafter(lo_, dtype(np.inf)),
                     np.nextafter(hi_, dtype(-np.inf)), np.nextafter(hi_, dtype(np.inf)), (lo_ + hi_) / 2,
                     np.nan, np.inf, -np.inf, dtype(-3.0), dtype(7.0)], dtype=dtype)


def _grads(mod, x, lo, hi, tensor_bounds):
    g = mod.Graph()
    with g.as_default():
        t = mod.placeholder(x.dtype, shape=x.shape)
        w = mod.constant(np.arange(1, len(x) + 1, dtype=x.dtype))
        a = mod.constant(x.dtype.type(lo)) if tensor_bounds else lo
        b = mod.constant(x.dtype.type(hi)) if tensor_bounds else hi
        loss = mod.reduce_sum(mod.clip_by_value(t, a, b) * w)
        grad = mod.gradients(loss, t)[0]
        with mod.Session(graph=g) as sess:
            return sess.run(grad, feed_dict={t: x})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bounds", [(1e-10, 1.0), (-0.5, 0.7), (2.0, 2.0)])    # not 0: TF flushes denormals
@pytest.mark.parametrize("tensor_bounds", [False, True])
def test_clip_by_value_gradient_matches_tensorflow(dtype, bounds, tensor_bounds):
    x = _points(dtype, *bounds)
    ours = _grads(ctf, x, *bounds, tensor_bounds)
    theirs = _tf_grads(x, *bounds, tensor_bounds)
    np.testing.assert_array_equal(ours, theirs)


def _tf_grads(x, lo, hi, tensor_bounds):
    tf1 = tf.compat.v1
    g = tf.Graph()
    with g.as_default():
        t = tf1.placeholder(x.dtype, shape=x.shape)
        w = tf.constant(np.arange(1, len(x) + 1, dtype=x.dtype))
        a = tf.constant(x.dtype.type(lo)) if tensor_bounds else lo
        b = tf.constant(x.dtype.type(hi)) if tensor_bounds else hi
        loss = tf.reduce_sum(tf.clip_by_value(t, a, b) * w)
        grad = tf1.gradients(loss, t)[0]
        with tf1.Session(graph=g) as sess:
            return sess.run(grad, feed_dict={t: x})
