"""course.losses against torch.nn.functional and against real Keras 3 (TensorFlow backend):
values, reductions, sample weights, extreme logits, probabilities of exactly 0 and 1, gradients."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import course.losses as L

REDUCTIONS = ["sum_over_batch_size", "sum", "none", "mean_with_sample_weight"]


def close(a, b, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=rtol, atol=atol)


def data(seed=0, n=16, c=5):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, c, generator=g) * 3
    probs = torch.softmax(logits, -1)
    labels = torch.randint(0, c, (n,), generator=g)
    onehot = F.one_hot(labels, c).float()
    weights = torch.rand(n, generator=g)
    return logits, probs, labels, onehot, weights


# -- against torch ----------------------------------------------------------------------------
def test_cross_entropies_match_torch():
    logits, probs, labels, onehot, w = data()
    close(L.sparse_categorical_crossentropy(labels, logits, from_logits=True), F.cross_entropy(logits, labels))
    close(L.categorical_crossentropy(onehot, logits, from_logits=True), F.cross_entropy(logits, labels))
    close(L.sparse_categorical_crossentropy(labels, probs), F.nll_loss(torch.log(probs), labels))
    close(L.categorical_crossentropy(onehot, probs, reduction="none"),
          F.cross_entropy(logits, labels, reduction="none"))
    close(L.sparse_categorical_crossentropy(labels, logits, from_logits=True, sample_weight=w, reduction="sum"),
          (F.cross_entropy(logits, labels, reduction="none") * w).sum())


def test_mse_and_bce_match_torch():
    logits, probs, _, onehot, w = data()
    target = torch.rand_like(probs)
    close(L.mean_squared_error(target, probs), F.mse_loss(probs, target))
    close(L.mean_absolute_error(target, probs), F.l1_loss(probs, target))
    close(L.binary_crossentropy(onehot, logits, from_logits=True), F.binary_cross_entropy_with_logits(logits, onehot))
    p = probs.clamp(0.01, 0.99)                              # away from the clip, torch's BCE is the same
    close(L.binary_crossentropy(target, p), F.binary_cross_entropy(p, target))
    close(L.binary_crossentropy(target, p, sample_weight=w, reduction="sum"),
          (F.binary_cross_entropy(p, target, reduction="none").mean(-1) * w).sum())


def test_gradients_flow_and_match_torch():
    logits, _, labels, _, _ = data()
    a = logits.clone().requires_grad_()
    b = logits.clone().requires_grad_()
    L.sparse_categorical_crossentropy(labels, a, from_logits=True).backward()
    F.cross_entropy(b, labels).backward()
    close(a.grad, b.grad)


def test_extreme_logits_are_finite():
    x = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0]], requires_grad=True)
    loss = L.categorical_crossentropy(torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]), x, from_logits=True,
                                      reduction="none")
    close(loss.detach(), [2e4, 2e4], rtol=1e-6)
    loss.sum().backward()
    assert torch.isfinite(x.grad).all()
    bce = L.binary_crossentropy(torch.tensor([[1.0, 0.0]]), torch.tensor([[-1e4, -1e4]]), from_logits=True)
    close(bce, 5e3, rtol=1e-6)


def test_probabilities_of_exactly_zero_and_one_are_clipped():
    p = torch.tensor([[0.0, 1.0, 0.0]])
    close(L.categorical_crossentropy(torch.tensor([[1.0, 0.0, 0.0]]), p), -np.log(np.float32(1e-7)), rtol=1e-6)
    close(L.binary_crossentropy(torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 0.0]])),
          -np.log(np.float32(1) - np.float32(1e-7)), rtol=1e-3)


def test_reductions_and_weights():
    _, probs, labels, _, w = data()
    per = L.sparse_categorical_crossentropy(labels, probs, reduction="none")
    assert per.shape == (16,)
    close(L.sparse_categorical_crossentropy(labels, probs, reduction="sum"), per.sum())
    close(L.sparse_categorical_crossentropy(labels, probs, reduction=None), per)
    close(L.sparse_categorical_crossentropy(labels, probs, sample_weight=w), (per * w).sum() / 16)
    close(L.sparse_categorical_crossentropy(labels, probs, sample_weight=w, reduction="mean_with_sample_weight"),
          (per * w).sum() / w.sum())
    close(L.sparse_categorical_crossentropy(labels[:, None], probs, sample_weight=w[:, None]), (per * w).sum() / 16)


def test_clear_errors():
    _, probs, labels, onehot, _ = data()
    bad = labels.clone()
    bad[3] = 12
    with pytest.raises(ValueError, match=r"labels must be in \[0, 5\).*got min 0, max 12"):
        L.sparse_categorical_crossentropy(bad, probs)
    with pytest.raises(ValueError, match="looks one-hot"):
        L.sparse_categorical_crossentropy(onehot, probs)
    with pytest.raises(ValueError, match=r"y_true \(16,\) and y_pred \(16, 5\).*sparse_categorical"):
        L.categorical_crossentropy(labels, probs)
    with pytest.raises(ValueError, match=r"y_true \(16, 4\) and y_pred \(16, 5\)"):
        L.mean_squared_error(onehot[:, :4], probs)
    with pytest.raises(ValueError, match="empty batch"):
        L.categorical_crossentropy(onehot[:0], probs[:0])
    with pytest.raises(ValueError, match="empty batch"):
        L.sparse_categorical_crossentropy(labels[:0], probs[:0])
    with pytest.raises(ValueError, match="reduction must be one of"):
        L.mean_squared_error(onehot, probs, reduction="avg")
    with pytest.raises(ValueError, match=r"sample_weight of shape \(3,\)"):
        L.mean_squared_error(onehot, probs, sample_weight=torch.ones(3))
    with pytest.raises(ValueError, match="Could not interpret loss identifier: msee. .*valid names: .*mse"):
        L.get("msee")


def test_get_names():
    assert L.get("mse") is L.mean_squared_error is L.get("MeanSquaredError")
    assert L.get("categorical_crossentropy") is L.categorical_crossentropy
    assert L.get("SparseCategoricalCrossentropy") is L.sparse_categorical_crossentropy
    assert L.get(L.hinge) is L.hinge and L.get(None) is None


# -- against Keras 3 --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keras():
    tf = pytest.importorskip("tensorflow")
    return tf.keras


def _cases(keras):
    """(name, ours, theirs(**kw), y_true, y_pred) on awkward inputs."""
    k = keras.losses
    rng = np.random.default_rng(1)
    n, c = 12, 4
    probs = rng.dirichlet(np.ones(c), n).astype(np.float32)
    probs[0] = [0, 1, 0, 0]                                       # exact 0 and 1
    probs[1] = [0.5, 0.5, 0, 0]
    unnorm = probs * rng.uniform(0.5, 2.0, (n, 1)).astype(np.float32)   # rows not summing to 1
    logits = (rng.standard_normal((n, c)) * 3).astype(np.float32)
    logits[0] = [1e4, -1e4, 0, 5]                                 # extreme logits
    labels = rng.integers(0, c, n)
    labels[0] = 0
    onehot = np.eye(c, dtype=np.float32)[labels]
    bin_true = rng.integers(0, 2, (n, 3)).astype(np.float32)
    bin_p = rng.random((n, 3)).astype(np.float32)
    bin_p[0] = [0, 1, 1]
    bin_true[0] = [1, 0, 1]
    bin_x = (rng.standard_normal((n, 3)) * 4).astype(np.float32)
    bin_x[1] = [1e4, -1e4, 1e4]
    reg_true = rng.standard_normal((n, 3)).astype(np.float32)
    pm1 = 2 * bin_true - 1
    return [
        ("mse", L.mean_squared_error, k.MeanSquaredError, reg_true, bin_x, {}),
        ("mse_n1_vs_n", L.mean_squared_error, k.MeanSquaredError, reg_true[:, 0], bin_x[:, :1], {}),
        ("mse_1d", L.mean_squared_error, k.MeanSquaredError, reg_true[:, 0], bin_x[:, 0], {}),
        ("mae", L.mean_absolute_error, k.MeanAbsoluteError, reg_true, bin_x, {}),
        ("bce_probs", L.binary_crossentropy, k.BinaryCrossentropy, bin_true, bin_p, {}),
        ("bce_probs_smooth", L.binary_crossentropy, k.BinaryCrossentropy, bin_true, bin_p, {"label_smoothing": 0.2}),
        ("bce_logits", L.binary_crossentropy, k.BinaryCrossentropy, bin_true, bin_x, {"from_logits": True}),
        ("bce_column", L.binary_crossentropy, k.BinaryCrossentropy, bin_true[:, 0], bin_p[:, :1], {}),
        ("cce_probs", L.categorical_crossentropy, k.CategoricalCrossentropy, onehot, probs, {}),
        ("cce_unnormalised", L.categorical_crossentropy, k.CategoricalCrossentropy, onehot, unnorm, {}),
        ("cce_logits", L.categorical_crossentropy, k.CategoricalCrossentropy, onehot, logits, {"from_logits": True}),
        ("cce_smooth", L.categorical_crossentropy, k.CategoricalCrossentropy, onehot, probs, {"label_smoothing": 0.1}),
        ("scce_probs", L.sparse_categorical_crossentropy, k.SparseCategoricalCrossentropy, labels, probs, {}),
        ("scce_unnormalised", L.sparse_categorical_crossentropy, k.SparseCategoricalCrossentropy, labels, unnorm, {}),
        ("scce_column", L.sparse_categorical_crossentropy, k.SparseCategoricalCrossentropy, labels[:, None],
         probs, {}),
        ("scce_logits", L.sparse_categorical_crossentropy, k.SparseCategoricalCrossentropy, labels, logits,
         {"from_logits": True}),
        ("hinge_01", L.hinge, k.Hinge, bin_true, bin_x, {}),
        ("hinge_pm1", L.hinge, k.Hinge, pm1, bin_x, {}),
        ("squared_hinge_01", L.squared_hinge, k.SquaredHinge, bin_true, bin_x / 4, {}),
        ("squared_hinge_nonbinary", L.squared_hinge, k.SquaredHinge, bin_true + 0.5, bin_x / 4, {}),
    ]


CASE_NAMES = ["mse", "mse_n1_vs_n", "mse_1d", "mae", "bce_probs", "bce_probs_smooth", "bce_logits", "bce_column",
              "cce_probs", "cce_unnormalised", "cce_logits", "cce_smooth", "scce_probs", "scce_unnormalised",
              "scce_column",
              "scce_logits", "hinge_01", "hinge_pm1", "squared_hinge_01", "squared_hinge_nonbinary"]


@pytest.mark.parity
@pytest.mark.parametrize("case", CASE_NAMES)
def test_matches_keras_values_reductions_and_weights(keras, case):
    name, ours, theirs, y_true, y_pred, kw = {c[0]: c for c in _cases(keras)}[case]
    sw = np.random.default_rng(2).random(len(y_pred)).astype(np.float32)
    for reduction in REDUCTIONS:
        for weight in (None, sw):
            ref = theirs(reduction=reduction, **kw)(y_true, y_pred, sample_weight=weight)
            got = ours(torch.as_tensor(y_true), torch.as_tensor(y_pred), sample_weight=None if weight is None
                       else torch.as_tensor(weight), reduction=reduction, **kw)
            assert got.shape == tuple(ref.shape), (reduction, weight is not None)
            close(got, ref.numpy(), rtol=2e-6, atol=1e-6)


@pytest.mark.parity
@pytest.mark.parametrize("case", ["cce_probs", "cce_unnormalised", "cce_logits", "scce_probs", "scce_logits",
                                  "bce_probs", "bce_logits", "mse", "hinge_01"])
def test_gradients_match_tensorflow(keras, case):
    import tensorflow as tf
    name, ours, theirs, y_true, y_pred, kw = {c[0]: c for c in _cases(keras)}[case]
    x = tf.Variable(y_pred)
    with tf.GradientTape() as tape:
        ref = theirs(**kw)(y_true, x)
    ref_grad = tape.gradient(ref, x).numpy()
    p = torch.tensor(y_pred, requires_grad=True)
    ours(torch.as_tensor(y_true), p, **kw).backward()
    close(p.grad, ref_grad, rtol=1e-5, atol=1e-7)
