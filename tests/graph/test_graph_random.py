"""Seeded random ops give TensorFlow's numbers: Philox4x32-10, TF's float conversion, Box-Muller and
truncation, TF1's seed rules, and a stream that advances per run and restarts per session."""
import numpy as np
import pytest

import course.tf.compat.v1 as tf
from course.graph import philox
from course.graph.random_ops import DEFAULT_GRAPH_SEED, get_seed


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def test_philox_known_answers():
    """The Random123 known-answer vectors of Philox4x32-10 (Salmon et al., 2011)."""
    out = philox.philox(0, np.zeros((1, 4), dtype=np.uint64))
    assert [hex(v) for v in out[0]] == ["0x6627e8d5", "0xe169c58d", "0xbc57ac4c", "0x9b00dbd8"]
    key = 0xa4093822 | (0x299f31d0 << 32)
    ctr = np.array([[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344]], dtype=np.uint64)
    assert [hex(v) for v in philox.philox(key, ctr)[0]] == ["0xd16cfe09", "0x94fdcceb", "0x5001e420", "0x24126ea1"]


def test_counter_arithmetic_carries_into_the_high_words():
    c = philox.counters(5, 2**64 - 1, 2)
    assert c[0].tolist() == [0xFFFFFFFF, 0xFFFFFFFF, 5, 0] and c[1].tolist() == [0, 0, 6, 0]


def test_seed003_initial_weights_are_tensorflows():
    """Values printed by TensorFlow 2.21 (compat.v1 graph mode) for the seed program."""
    w1 = tf.Variable(tf.random_normal([2, 3], stddev=1, seed=1))
    w2 = tf.Variable(tf.random_normal([3, 1], stddev=1, seed=1))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(w1), [[-0.8113182, 1.4845988, 0.06532937],
                                                  [-2.4427042, 0.0992484, 0.5912243]], rtol=1e-6)
        np.testing.assert_allclose(sess.run(w2), [[-0.8113182], [1.4845988], [0.06532937]], rtol=1e-6)


def test_seed_rules():
    g = tf.Graph()
    with g.as_default():
        assert get_seed(None) == (None, None)
        assert get_seed(7) == (DEFAULT_GRAPH_SEED, 7)
        tf.set_random_seed(0)
        assert get_seed(0) == (0, 2**31 - 1)               # (0, 0) would mean "unseeded"
        assert [get_seed(None) for _ in range(3)] == [(0, 2**31 - 1), (0, 1), (0, 2)]   # op seeds 0, 1, 2
    g2 = tf.Graph()
    with g2.as_default():
        tf.set_random_seed(42)
        assert [get_seed(None) for _ in range(3)] == [(42, 0), (42, 1), (42, 2)]
        assert get_seed(5) == (42, 5)


def test_stream_advances_per_run_and_restarts_per_session():
    a = tf.random_uniform([5], seed=3)
    with tf.Session() as s1:
        first, second = s1.run(a), s1.run(a)
    with tf.Session() as s2:
        again = s2.run(a)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(second, philox.uniform(DEFAULT_GRAPH_SEED, 3, 5 * 256, 5))


def test_unseeded_ops_differ_between_sessions():
    a = tf.random_normal([4])
    with tf.Session() as s1, tf.Session() as s2:
        assert not np.array_equal(s1.run(a), s2.run(a))


def test_truncated_normal_stays_within_two_stddevs():
    t = tf.truncated_normal([20000], mean=1.0, stddev=0.5, seed=11)
    with tf.Session() as sess:
        v = sess.run(t)
    assert np.abs(v - 1.0).max() < 1.0 and abs(v.mean() - 1.0) < 0.01


@pytest.mark.parity
@pytest.mark.parametrize("op", ["random_normal", "truncated_normal", "random_uniform"])
def test_same_values_as_tensorflow(op):
    tfr = pytest.importorskip("tensorflow").compat.v1
    shapes = [[2, 3], [7], [5, 5, 1, 32], [1001]]
    for graph_seed, op_seed in [(None, 1), (None, 123456), (5, None), (5, 9)]:
        for module, store in ((tfr, []), (tf, [])):
            g = module.Graph()
            with g.as_default():
                if graph_seed is not None:
                    module.set_random_seed(graph_seed)
                kwargs = {"minval": -2, "maxval": 3} if op == "random_uniform" else {"mean": 0.5, "stddev": 2.0}
                ts = [getattr(module, op)(s, seed=op_seed, **kwargs) for s in shapes]
                with module.Session(graph=g) as sess:
                    store.extend([sess.run(ts), sess.run(ts)])          # two runs: the stream advances
            if module is tfr:
                ref = store
            else:
                mine = store
        for r_run, m_run in zip(ref, mine):
            for r, m in zip(r_run, m_run):
                np.testing.assert_allclose(m, r, rtol=2e-6, atol=2e-6)


@pytest.mark.parity
def test_integer_uniform_matches_tensorflow():
    tfr = pytest.importorskip("tensorflow").compat.v1
    out = []
    for module in (tfr, tf):
        g = module.Graph()
        with g.as_default():
            t = module.random_uniform([33], minval=-5, maxval=17, dtype=module.int32, seed=4)
            with module.Session(graph=g) as sess:
                out.append(sess.run(t))
    np.testing.assert_array_equal(out[0], out[1])
