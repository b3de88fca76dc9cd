"""GradientTape records as TensorFlow's does: what it did not record has no gradient.

Each case runs on real TensorFlow and on course.tf; the gradients (None or a value) must agree.
"""
import numpy as np
import pytest

from course import tf as ctf

tf_real = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity


def _value(g):
    if g is None:
        return None
    if isinstance(g, (list, tuple)):
        return [_value(x) for x in g]
    return float(np.asarray(g))


def _both(case):
    return case(tf_real), case(ctf)


def _assert_same(case):
    want, got = _both(case)
    assert _value(got) == pytest.approx(_value(want)) if want is not None and got is not None else got == want
    return want, got


def test_loss_computed_outside_the_tape_has_no_gradient():
    def case(tf):
        v = tf.Variable(2.0)
        out = v * 2
        with tf.GradientTape() as tape:
            y = out * 3
        return tape.gradient(y, v)
    assert _both(case) == (None, None)


def test_loss_computed_after_the_tape_closed_has_no_gradient():
    def case(tf):
        v = tf.Variable(2.0)
        with tf.GradientTape() as tape:
            y = v * 3
        z = y * 2
        return tape.gradient(z, v)
    assert _both(case) == (None, None)


def test_unwatched_constant_integer_and_non_trainable_sources_give_none():
    def case(tf):
        x = tf.constant(1.5)
        v = tf.Variable(2.0)
        w = tf.Variable(3.0, trainable=False)
        iv = tf.Variable(2)
        with tf.GradientTape(persistent=True) as tape:
            y = x * v * w + tf.cast(iv, tf.float32)
        return [tape.gradient(y, x), tape.gradient(y, w), tape.gradient(y, iv), _value(tape.gradient(y, v))]
    want, got = _both(case)
    assert want == got == [None, None, None, 4.5]


def test_unconnected_source_none_or_zero():
    def case(tf):
        v, u = tf.Variable(2.0), tf.Variable(1.0)
        with tf.GradientTape(persistent=True) as tape:
            y = v * 2
        return (_value(tape.gradient(y, [v, u])),
                _value(tape.gradient(y, [v, u], unconnected_gradients=tf.UnconnectedGradients.ZERO)))
    want, got = _both(case)
    assert want == got == ([2.0, None], [2.0, 0.0])


def test_stop_recording_and_reset():
    def case(tf):
        v = tf.Variable(2.0)
        with tf.GradientTape() as t1:
            y = v * 2
            with t1.stop_recording():
                z = v * 5
            s = y + z
        with tf.GradientTape() as t2:
            y2 = v * 2
            t2.reset()
            s2 = y2 + v * 5
        return _value(t1.gradient(s, v)), _value(t2.gradient(s2, v))
    want, got = _both(case)
    assert want == got == (2.0, 5.0)


def test_watch_accessed_variables_false_and_watched_variables():
    def case(tf):
        v, u = tf.Variable(2.0, name="v"), tf.Variable(1.0, name="u")
        x = tf.constant(3.0)
        with tf.GradientTape(watch_accessed_variables=False) as t1:
            t1.watch(u)
            y = v * u
        with tf.GradientTape() as t2:
            t2.watch(x)
            z = x * x * v * u
        return (_value(t1.gradient(y, [v, u])), [w.name for w in t1.watched_variables()],
                [w.name for w in t2.watched_variables()], _value(t2.gradient(z, x)))
    want, got = _both(case)
    assert want == got == ([None, 2.0], ["u:0"], ["v:0", "u:0"], 12.0)


def test_keras_model_variables_are_watched():
    def case(tf):
        layer = tf.keras.layers.Dense(2)
        layer(np.ones((1, 3), np.float32))
        with tf.GradientTape() as tape:
            y = tf.reduce_sum(layer(np.ones((1, 3), np.float32)))
        return len(tape.watched_variables()), [g is None for g in tape.gradient(y, layer.trainable_variables)]
    want, got = _both(case)
    assert want == got == (2, [False, False])


def test_non_persistent_tape_refuses_a_second_gradient():
    for tf in (tf_real, ctf):
        v = tf.Variable(2.0)
        with tf.GradientTape() as tape:
            y = v * 2
        tape.gradient(y, v)
        with pytest.raises(RuntimeError, match="non-persistent GradientTape"):
            tape.gradient(y, v)


def test_nested_tapes_give_second_derivatives():
    def case(tf):
        x = tf.Variable(3.0)
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                y = x * x * x
            dy = inner.gradient(y, x)
        return _value(dy), _value(outer.gradient(dy, x))
    want, got = _both(case)
    assert want == got == (27.0, 18.0)
