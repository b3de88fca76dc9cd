"""tf.data.Dataset: TensorFlow's semantics (counts, order, shuffle buffers, seeds) and the fast path."""
import os

import numpy as np
import pytest
import torch

import course.tape.data as tdata
import course.tf as tf
from course.tape import EagerTensor

N = 10
X = np.arange(N * 2, dtype=np.float32).reshape(N, 2)
Y = np.arange(N, dtype=np.int32)


def firsts(ds):
    """The first component of each element, as python lists (batches) or numbers."""
    out = []
    for e in ds:
        v = e[0] if isinstance(e, tuple) else e
        out.append(v.numpy().tolist())
    return out


def test_slices_of_arrays_tuples_and_dicts():
    ds = tf.data.Dataset.from_tensor_slices((X, Y))
    x0, y0 = next(iter(ds))
    assert isinstance(x0, EagerTensor) and x0.shape == (2,) and int(y0) == 0
    d = next(iter(tf.data.Dataset.from_tensor_slices({"a": X, "b": Y})))
    assert set(d) == {"a", "b"} and d["a"].shape == (2,)
    assert tf.data.Dataset.from_tensor_slices(np.ones(3)).element_spec.dtype == tf.float64   # as TF
    assert tf.data.Dataset.from_tensor_slices([1, 2]).element_spec.dtype == tf.int32
    with pytest.raises(ValueError, match="first dimension"):
        tf.data.Dataset.from_tensor_slices((X, Y[:3]))
    (only,) = list(tf.data.Dataset.from_tensors(X))
    assert only.shape == (N, 2)


def test_batch_counts_order_and_remainder():
    ds = tf.data.Dataset.from_tensor_slices((X, Y))
    assert firsts(ds.batch(4)) == [X[0:4].tolist(), X[4:8].tolist(), X[8:].tolist()]
    assert len(ds.batch(4)) == 3 and len(ds.batch(4, drop_remainder=True)) == 2
    assert [b[1].shape[0] for b in ds.batch(4, drop_remainder=True)] == [4, 4]
    assert ds.batch(4).element_spec[0].shape.as_list() == [None, 2]
    assert ds.batch(4, drop_remainder=True).element_spec[0].shape.as_list() == [4, 2]


def test_repeat_take_skip_and_cardinality():
    ds = tf.data.Dataset.range(5)
    assert [int(v) for v in ds.repeat(2)] == [0, 1, 2, 3, 4] * 2
    assert [int(v) for v in ds.repeat().take(7)] == [0, 1, 2, 3, 4, 0, 1]
    assert [int(v) for v in ds.skip(3)] == [3, 4] and [int(v) for v in ds.take(-1)] == list(range(5))
    assert int(ds.repeat().cardinality()) == tf.data.INFINITE_CARDINALITY
    assert int(ds.filter(lambda v: v > 1).cardinality()) == tf.data.UNKNOWN_CARDINALITY
    assert int(ds.repeat(3).batch(4).cardinality()) == 4
    with pytest.raises(TypeError, match="infinite"):
        len(ds.repeat())
    assert [b.numpy().tolist() for b in ds.repeat(2).batch(4)] == [[0, 1, 2, 3], [4, 0, 1, 2], [3, 4]]


def test_full_buffer_shuffle_is_a_permutation_and_reshuffles_each_pass():
    ds = tf.data.Dataset.range(100).shuffle(100, seed=3)
    a, b = [int(v) for v in ds], [int(v) for v in ds]
    assert sorted(a) == sorted(b) == list(range(100))
    assert a != b and a != list(range(100))
    fixed = tf.data.Dataset.range(100).shuffle(100, seed=3, reshuffle_each_iteration=False)
    assert [int(v) for v in fixed] == [int(v) for v in fixed]


def test_shuffle_seeds_are_reproducible():
    def order(seed=None):
        return [int(v) for v in tf.data.Dataset.range(50).shuffle(50, seed=seed)]
    assert order(seed=5) == order(seed=5) and order(seed=5) != order(seed=6)
    tf.random.set_seed(11)
    first = order()
    tf.random.set_seed(11)
    assert order() == first


def test_small_buffer_follows_tensorflows_buffer_rule():
    """Output i can only be an input among the first i + buffer_size ones; buffer 1 keeps the order."""
    assert [int(v) for v in tf.data.Dataset.range(20).shuffle(1)] == list(range(20))
    for seed in range(5):
        out = [int(v) for v in tf.data.Dataset.range(200).shuffle(8, seed=seed)]
        assert sorted(out) == list(range(200))
        assert all(v < i + 8 for i, v in enumerate(out))
        assert out != list(range(200))


def test_shuffle_before_repeat_keeps_epochs_apart_and_after_mixes_them():
    epochs = [int(v) for v in tf.data.Dataset.range(10).shuffle(10, seed=1).repeat(3)]
    for k in range(3):
        assert sorted(epochs[10 * k:10 * k + 10]) == list(range(10))
    mixed = [int(v) for v in tf.data.Dataset.range(10).repeat(3).shuffle(30, seed=1)]
    assert sorted(mixed) == sorted(list(range(10)) * 3)


def test_map_is_vectorised_when_it_can_be_and_per_element_otherwise():
    ds = tf.data.Dataset.from_tensor_slices((X, Y))
    scaled = ds.map(lambda x, y: (tf.reshape(x, [2, 1]) / tf.reduce_max(x), y * 2))
    got = list(scaled.batch(4))
    want = [(X[i].reshape(2, 1) / max(X[i].max(), 1e-30), 2 * Y[i]) for i in range(N)]
    np.testing.assert_allclose(np.concatenate([b[0].numpy() for b in got]), np.stack([w[0] for w in want]))
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in got]), [w[1] for w in want])
    assert scaled._vectorised is True
    noisy = ds.map(lambda x, y: (x + tf.random.uniform([2]), y))     # random: vmap refuses, per element
    batch = next(iter(noisy.batch(N)))[0].numpy() - X
    assert noisy._vectorised is False and len({round(float(v), 6) for v in batch[:, 0]}) == N
    per_batch = ds.batch(4).map(lambda x, y: tf.shape(x)[0])         # after batch: whole batches
    assert [int(v) for v in per_batch] == [4, 4, 2]


def test_cache_freezes_the_first_pass_and_filter_unbatch_work():
    ds = tf.data.Dataset.range(20).shuffle(20).cache()
    assert [int(v) for v in ds] == [int(v) for v in ds]
    assert [int(v) for v in tf.data.Dataset.range(10).filter(lambda v: v % 3 == 0)] == [0, 3, 6, 9]
    assert [int(v) for v in tf.data.Dataset.range(5).batch(2).unbatch()] == list(range(5))
    zipped = tf.data.Dataset.zip((tf.data.Dataset.range(3), tf.data.Dataset.range(10, 20)))
    assert [(int(a), int(b)) for a, b in zipped] == [(0, 10), (1, 11), (2, 12)]
    gen = tf.data.Dataset.from_generator(lambda: ((i, i * i) for i in range(4)),
                                         output_signature=(tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int32)))
    assert [int(b) for _, b in gen] == [0, 1, 4, 9]


def test_numpy_iteration_and_the_engine_iterator():
    ds = tf.data.Dataset.from_tensor_slices((X, Y)).batch(3)
    first = next(ds.as_numpy_iterator())
    assert isinstance(first[0], np.ndarray) and first[0].shape == (3, 2)
    plain = next(tdata.iter_batches(ds))
    assert type(plain[0]) is torch.Tensor and plain[0].shape == (3, 2)
    assert ds._is_batched() and not ds.unbatch()._is_batched()


def test_in_memory_pipeline_never_runs_per_element(monkeypatch):
    def forbidden(block):
        raise AssertionError("per-element iteration on the fast path")
    monkeypatch.setattr(tdata.structure, "rows", forbidden)
    x = np.random.default_rng(0).random((5000, 16))
    y = np.arange(5000)
    ds = (tf.data.Dataset.from_tensor_slices((x, y)).map(lambda a, b: (tf.cast(a, tf.float32) * 2.0, b))
          .shuffle(1024).batch(100).repeat(2).prefetch(tf.data.AUTOTUNE))
    seen = np.concatenate([b[1].numpy() for b in ds])
    assert sorted(seen.tolist()) == sorted(list(range(5000)) * 2)


@pytest.mark.parity
def test_order_counts_and_cardinality_match_tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    TF = pytest.importorskip("tensorflow")

    def pipelines(m):
        base = m.data.Dataset.from_tensor_slices((X, Y))
        return {
            "batch": base.batch(3),
            "batch_drop": base.batch(3, drop_remainder=True),
            "map_repeat_take": base.map(lambda x, y: (x * 2.0, y + 1)).repeat(3).take(25).batch(4),
            "skip_repeat": base.skip(7).repeat(2),
            "unbatch": base.batch(4).unbatch(),
            "filter": base.filter(lambda x, y: y % 2 == 0),
            "range": m.data.Dataset.range(3, 20, 4),
        }

    ours, theirs = pipelines(tf), pipelines(TF)
    for key in theirs:
        assert int(ours[key].cardinality()) == int(theirs[key].cardinality()), key
        a, b = list(ours[key].as_numpy_iterator()), list(theirs[key].as_numpy_iterator())
        assert len(a) == len(b), key
        for ea, eb in zip(a, b):
            for va, vb in zip(ea if isinstance(ea, tuple) else (ea,), eb if isinstance(eb, tuple) else (eb,)):
                np.testing.assert_array_equal(np.asarray(va), np.asarray(vb), err_msg=key)
                assert np.asarray(va).dtype == np.asarray(vb).dtype, key
