"""course.compress against independent references: the Keras model itself for its PyTorch twin,
torch.quantize_per_channel for int8 rounding, F.kl_div for the distillation loss, a sorted list of
magnitudes for pruning; and, on MNIST subsets, that quantisation costs little accuracy and that
distillation beats training alone. Full measurements: benchmarks/bench_compress.py."""
import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import course.device
from course import compress as C
from course.apps.train import build_model


def mlp(hidden=128, softmax=True, seed=0):
    """seed004's MLP (no dropout), through the facade; `softmax=False` leaves logits."""
    import course.tf as tf
    from course.tf.keras import layers
    course.device.seed(seed)
    return tf.keras.Sequential([layers.Flatten(input_shape=(28 * 28,)), layers.Dense(hidden, activation="relu"),
                                layers.Dense(10, activation="softmax" if softmax else None)])


def seed002_cnn(seed=0):
    course.device.seed(seed)
    return build_model("cnn")


def seed000_cnn(seed=0):
    course.device.seed(seed)
    return build_model("cnn-large")


@pytest.fixture(scope="module")
def mnist():
    import course.data
    (x, y), (xt, yt) = course.data.load_mnist()
    return (x.reshape(-1, 784).float() / 255, y), (xt[:2000].reshape(-1, 784).float() / 255, yt[:2000])


@pytest.fixture(scope="module")
def trained_mlp(mnist):
    (x, y), _ = mnist
    model = mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x[:8000].numpy(), y[:8000].numpy(), batch_size=64, epochs=1, verbose=0)
    return model


# -- the PyTorch twin -------------------------------------------------------------------------------
@pytest.mark.parametrize("build,shape", [(seed000_cnn, (6, 784)), (seed002_cnn, (6, 28, 28)), (mlp, (6, 784))],
                         ids=["seed000", "seed002-cnn", "seed004-mlp"])
def test_twin_computes_what_the_keras_model_computes(build, shape):
    model = build()
    x = torch.rand(*shape, generator=torch.Generator().manual_seed(1))
    twin = C.to_torch(model, x[:2])
    assert not any(type(m).__module__.startswith("course.keras") for m in twin.modules())
    assert any(isinstance(m, torch.nn.Linear) for m in twin)
    np.testing.assert_allclose(twin(x).detach().numpy(), model(x).numpy(), atol=1e-5, rtol=0)


def test_twin_refuses_layers_it_does_not_know():
    import course.tf as tf
    model = tf.keras.Sequential([tf.keras.layers.BatchNormalization(input_shape=(4,))])
    with pytest.raises(NotImplementedError, match="has no twin"):
        C.to_torch(model, torch.rand(2, 4))


# -- pruning ------------------------------------------------------------------------------------------
def test_global_magnitude_pruning_zeros_the_smallest_weights(trained_mlp):
    model = copy.deepcopy(trained_mlp)
    kernels = [m.kernel.numpy().copy() for m, _ in C.prunable(model)]
    biases = [m.bias.numpy().copy() for m, _ in C.prunable(model)]
    masks = C.magnitude_prune(model, 0.7)
    everything = np.sort(np.abs(np.concatenate([k.ravel() for k in kernels])))
    k = int(round(0.7 * everything.size))
    threshold = everything[k - 1]                                  # the k-th smallest magnitude
    for (m, _), before, mask in zip(C.prunable(model), kernels, masks):
        after = m.kernel.numpy()
        np.testing.assert_array_equal(after == 0, np.abs(before) <= threshold)
        np.testing.assert_array_equal(after[after != 0], before[after != 0])
        np.testing.assert_array_equal(mask.numpy() == 0, after == 0)
    for (m, _), b in zip(C.prunable(model), biases):
        np.testing.assert_array_equal(m.bias.numpy(), b)          # biases are left alone
    assert C.sparsity(model) == pytest.approx(k / everything.size)
    from course.tape import Variable
    assert all(isinstance(p, Variable) for p in model.parameters())        # still a course.keras model


def test_layer_scope_prunes_each_layer_and_fine_tuning_keeps_the_zeros(trained_mlp, mnist):
    (x, y), _ = mnist
    model = copy.deepcopy(trained_mlp)
    masks = C.magnitude_prune(model, 0.5, scope="layer")
    for m, _ in C.prunable(model):
        assert (m.kernel.numpy() == 0).mean() == pytest.approx(0.5, abs=1e-3)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x[:512].numpy(), y[:512].numpy(), batch_size=64, epochs=1, verbose=0, callbacks=[C.KeepPruned(masks)])
    for (m, _), mask in zip(C.prunable(model), masks):
        assert (m.kernel.numpy()[mask.numpy() == 0] == 0).all()
    with pytest.raises(ValueError, match="in \\[0, 1\\)"):
        C.magnitude_prune(model, 1.5)


# -- quantisation -------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor:UserWarning")
def test_int8_rounding_matches_torch_per_channel_quantisation():
    g = torch.Generator().manual_seed(0)
    for w in (torch.randn(16, 40, generator=g), torch.randn(3, 5, generator=g) * 1e-3,
              torch.tensor([[0.0, 0.0], [1.0, -2.0]])):
        q, s = C.quantize_tensor(w)
        assert q.dtype == torch.int8 and s.dtype == torch.float32 and int(q.abs().max()) <= 127
        ref = torch.quantize_per_channel(w, s.double(), torch.zeros(len(s), dtype=torch.long), 0, torch.qint8)
        np.testing.assert_array_equal(q.numpy(), ref.int_repr().numpy())
        assert (C.dequantize(q, s) - w).abs().le(s[:, None] / 2 + 1e-7).all()     # |Ŵ - W| <= s/2


def test_quantised_models_are_smaller_and_nearly_as_accurate(trained_mlp, mnist):
    _, (xt, yt) = mnist
    twin = C.to_torch(trained_mlp, xt[:4])
    base = C.accuracy(twin, xt, yt)
    size, _ = C.file_size(twin)
    assert base > 0.85
    for quantise in (C.quantize_weights_int8, C.quantize_dynamic):
        q = quantise(twin)
        assert C.file_size(q)[0] < size / 3                         # int8 weights: about 4x smaller
        assert abs(C.accuracy(q, xt, yt) - base) <= 0.01           # at most 1 point of accuracy
        assert (q(xt[:64]) - twin(xt[:64])).abs().max() < 0.05
    assert isinstance(twin[1], torch.nn.Linear)                     # the twin itself is untouched
    with pytest.raises(TypeError, match="to_torch"):
        C.quantize_dynamic(trained_mlp)


# -- distillation -------------------------------------------------------------------------------------
def test_distillation_loss_matches_kl_div_and_cross_entropy():
    g = torch.Generator().manual_seed(0)
    zs, zt = torch.randn(8, 10, generator=g), torch.randn(8, 10, generator=g) * 3
    y = torch.randint(0, 10, (8,), generator=g)
    for T, alpha in ((1.0, 0.5), (4.0, 0.9), (2.5, 1.0), (3.0, 0.0)):
        soft = F.kl_div(F.log_softmax(zs / T, -1), F.softmax(zt / T, -1), reduction="batchmean") * T * T
        want = alpha * soft + (1 - alpha) * F.cross_entropy(zs, y)
        assert float(C.distillation_loss(zs, zt, y, temperature=T, alpha=alpha)) == pytest.approx(float(want), rel=1e-5)
    assert float(C.distillation_loss(zt, zt, y, temperature=2.0, alpha=1.0)) == pytest.approx(0.0, abs=1e-6)


def test_distillation_beats_training_alone_on_a_small_labelled_set(mnist):
    """Teacher: an MLP trained on 12,000 images (fast stand-in for the seed CNN, which the
    benchmark uses). Students: the same small MLP trained on 1,000 images, alone or distilled."""
    (x, y), (xt, yt) = mnist
    teacher = mlp(hidden=256, seed=0)
    teacher.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    teacher.fit(x[:12000].numpy(), y[:12000].numpy(), batch_size=64, epochs=2, verbose=0)
    n = 1000
    zt = C.logits_of(teacher, x[:n])
    alone, distilled = [], []
    for seed in (1, 2):
        s0 = mlp(hidden=32, softmax=False, seed=seed)
        C.distill(s0, x[:n], y[:n], alpha=0.0, epochs=10, batch_size=64, seed=seed)
        alone.append(C.accuracy(s0, xt, yt))
        s1 = mlp(hidden=32, softmax=False, seed=seed)
        C.distill(s1, x[:n], y[:n], teacher_logits=zt, epochs=10, batch_size=64, temperature=4.0, alpha=0.9,
                  seed=seed)
        distilled.append(C.accuracy(s1, xt, yt))
    assert np.mean(distilled) > np.mean(alone) + 0.005, (alone, distilled)
    with pytest.raises(ValueError, match="teacher_logits"):
        C.distill(s0, x[:10], y[:10], alpha=0.5)


def test_teacher_logits_are_the_keras_softmax_inputs(trained_mlp, mnist):
    _, (xt, _) = mnist
    z = C.logits_of(trained_mlp, xt[:50])
    probs = torch.as_tensor(trained_mlp(xt[:50]).numpy())
    np.testing.assert_allclose(F.softmax(z, -1).numpy(), probs.numpy(), atol=1e-6)
    twin = C.to_torch(trained_mlp, xt[:4])                     # ends in nn.Softmax: log p stands in
    np.testing.assert_allclose(F.softmax(C.logits_of(twin, xt[:50]), -1).numpy(), probs.numpy(), atol=1e-5)


# -- measurements -------------------------------------------------------------------------------------
def test_measurements_are_what_they_claim(trained_mlp, mnist):
    _, (xt, yt) = mnist
    twin = C.to_torch(trained_mlp, xt[:4])
    raw, zipped = C.file_size(twin)
    n_params = sum(p.numel() for p in twin.parameters())
    assert 4 * n_params < raw < 4 * n_params + 20_000 and zipped < raw
    manual = (twin(xt).argmax(1) == yt).float().mean().item()
    assert C.accuracy(twin, xt, yt, batch_size=333) == pytest.approx(manual)
    row = C.measure("twin", twin, xt, yt, repeats=3)
    assert row.latency_1_ms > 0 and row.latency_256_ms > row.latency_1_ms
    assert "| twin |" in C.table([row])
