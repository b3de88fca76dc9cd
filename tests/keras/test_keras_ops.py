"""`keras.ops` (Keras 3's NumPy-named ops) and custom Keras 3 metrics, against real Keras."""
import numpy as np
import pytest

from course.tf import keras

real = pytest.importorskip("keras")

X = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
LABELS = np.array([3.0, 0.0, 4.0, 1.0], np.float32)

CASES = [
    ("mean", lambda ops: ops.mean(ops.square(X - 0.5), axis=-1)),
    ("sum all", lambda ops: ops.sum(X)),
    ("max keepdims", lambda ops: ops.max(X, axis=0, keepdims=True)),
    ("std var", lambda ops: ops.std(X, axis=1) + ops.var(X, axis=1)),
    ("argmax flat", lambda ops: ops.argmax(X)),
    ("argmax axis", lambda ops: ops.argmax(X, axis=1)),
    ("one_hot float labels", lambda ops: ops.one_hot(LABELS, num_classes=5)),
    ("clip", lambda ops: ops.clip(X, -0.5, 0.5)),
    ("reshape transpose", lambda ops: ops.transpose(ops.reshape(X, (5, 4)), axes=(1, 0))),
    ("concatenate stack", lambda ops: ops.stack([ops.concatenate([X, X], axis=1), ops.concatenate([X, -X], axis=1)])),
    ("where cast", lambda ops: ops.cast(ops.where(X > 0, X, 0.0), "float32")),
    ("softmax log_softmax", lambda ops: ops.softmax(X) + ops.exp(ops.log_softmax(X, axis=-1))),
    ("matmul", lambda ops: ops.matmul(X, ops.transpose(X))),
    ("logsumexp", lambda ops: ops.logsumexp(X, axis=1)),
    ("cumsum", lambda ops: ops.cumsum(X, axis=1)),
    ("arange zeros ones", lambda ops: ops.cast(ops.arange(0, 6, 2), "float32") + ops.zeros((3,)) + ops.ones((3,))),
]


@pytest.mark.parametrize("name, fn", CASES, ids=[c[0] for c in CASES])
def test_ops_match_keras(name, fn):
    ours, theirs = fn(keras.ops), fn(real.ops)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ours), real.ops.convert_to_numpy(theirs), rtol=1e-5,
                               atol=1e-6)


def test_shape_is_a_tuple():
    assert keras.ops.shape(X) == real.ops.shape(X) == (4, 5)


def _counting_metric(module):
    class SeenAndCorrect(module.metrics.Metric):
        """The guide's pattern: add_variable state, update_state, result, reset_state."""

        def __init__(self, name="seen_and_correct", **kwargs):
            super().__init__(name=name, **kwargs)
            self.seen = self.add_variable(shape=(), name="seen", initializer="zeros")
            self.correct = self.add_variable(shape=(), name="correct", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            predicted = module.ops.cast(module.ops.argmax(y_pred, axis=1), "int32")
            hit = module.ops.cast(predicted == module.ops.cast(y_true, "int32"), "float32")
            self.seen.assign_add(module.ops.cast(module.ops.shape(y_pred)[0], "float32"))
            self.correct.assign_add(module.ops.sum(hit))

        def result(self):
            return self.correct / self.seen

        def reset_state(self):
            self.seen.assign(0.0)
            self.correct.assign(0.0)
    return SeenAndCorrect()


def test_custom_metric_subclass_in_fit_and_evaluate():
    x = np.random.default_rng(1).random((96, 6)).astype(np.float32)
    y = (x[:, 0] > 0.5).astype(np.int64)
    results, start = [], None
    for module in (keras, real):
        module.utils.set_random_seed(0)
        m = module.Sequential([module.Input((6,)), module.layers.Dense(2, activation="softmax")])
        if start is None:
            start = m.get_weights()                  # real Keras starts from our initial weights
        else:
            m.set_weights(start)
        metric = _counting_metric(module)
        m.compile(module.optimizers.SGD(0.1), "sparse_categorical_crossentropy", metrics=[metric])
        history = m.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
        results.append((history.history["seen_and_correct"], m.evaluate(x, y, batch_size=32, verbose=0)))
    (ours_hist, ours_eval), (theirs_hist, theirs_eval) = results
    np.testing.assert_allclose(ours_hist, theirs_hist, rtol=1e-6)
    np.testing.assert_allclose(ours_eval, theirs_eval, rtol=1e-5)
