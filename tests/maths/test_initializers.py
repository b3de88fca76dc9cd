"""course.initializers: distributions checked statistically on large shapes against the formulas,
fans and spreads against Keras' own (parity), seeds and the `get` registry."""
import math

import numpy as np
import pytest
import torch

import course.initializers as I

CPU = torch.device("cpu")
SHAPES = [(7,), (300, 200), (1024, 10), (5, 5, 1, 32), (5, 5, 32, 64), (3, 3, 3, 16, 8)]


@pytest.mark.parametrize("shape,fans", [((7,), (7, 7)), ((300, 200), (300, 200)),
                                        ((5, 5, 32, 64), (800, 1600)), ((3, 1, 4), (3, 12)), ((), (1, 1))])
def test_compute_fans_keras_rules(shape, fans):
    assert I.compute_fans(shape) == fans


@pytest.mark.parametrize("init,kind,n_of", [
    (I.glorot_uniform, "uniform", lambda fi, fo: (fi + fo) / 2),
    (I.he_uniform, "uniform", lambda fi, fo: fi / 2),
    (I.lecun_uniform, "uniform", lambda fi, fo: fi),
    (I.glorot_normal, "normal", lambda fi, fo: (fi + fo) / 2),
    (I.he_normal, "normal", lambda fi, fo: fi / 2),
    (I.lecun_normal, "normal", lambda fi, fo: fi),
])
def test_variance_scaling_statistics(init, kind, n_of):
    shape = (5, 5, 32, 64)                                  # 51,200 draws
    x = init(shape, device=CPU).double()
    target_std = math.sqrt(1.0 / n_of(*I.compute_fans(shape)))   # Var = s/n for every distribution
    assert abs(x.std().item() / target_std - 1) < 0.02
    assert abs(x.mean().item()) < 0.02 * target_std
    if kind == "uniform":
        limit = math.sqrt(3) * target_std
        assert x.abs().max().item() <= limit and x.abs().max().item() > 0.99 * limit
    else:
        bound = 2 * target_std / I.TRUNCATED_NORMAL_STD        # cut at ±2σ, σ = std / 0.8796
        assert x.abs().max().item() <= bound * (1 + 1e-6) and x.abs().max().item() > 0.97 * bound


def test_plain_distributions():
    n = (400, 250)
    x = I.random_normal(mean=1.0, stddev=0.5)(n, device=CPU)
    assert abs(x.mean().item() - 1.0) < 0.01 and abs(x.std().item() - 0.5) < 0.01
    u = I.random_uniform(-2.0, 3.0)(n, device=CPU)
    assert -2.0 <= u.min().item() < -1.99 and 2.99 < u.max().item() <= 3.0
    t = I.truncated_normal(mean=0.5, stddev=0.1)(n, device=CPU)
    assert 0.3 <= t.min().item() < 0.31 and 0.69 < t.max().item() <= 0.7
    assert abs(t.std().item() - 0.1 * I.TRUNCATED_NORMAL_STD) < 0.002
    assert I.zeros((2, 3), device=CPU).eq(0).all() and I.ones((4,), device=CPU).eq(1).all()
    assert I.constant(2.5)((3,), torch.float64, device=CPU).tolist() == [2.5, 2.5, 2.5]


def test_orthogonal():
    q = I.Orthogonal(gain=2.0)((3, 3, 4, 8), device=CPU).reshape(-1, 8)       # (36, 8): orthogonal columns
    torch.testing.assert_close(q.T @ q, 4 * torch.eye(8), atol=1e-5, rtol=0)
    w = I.Orthogonal()((4, 10), device=CPU)                                   # orthogonal rows
    torch.testing.assert_close(w @ w.T, torch.eye(4), atol=1e-5, rtol=0)


def test_dtype_device_seed_and_generator():
    assert I.glorot_uniform((3, 4), torch.float64, device=CPU).dtype == torch.float64
    assert I.glorot_uniform((3, 4), "float16", device=CPU).dtype == torch.float16
    a, b = I.GlorotUniform(seed=3)((20, 30), device=CPU), I.GlorotUniform(seed=3)((20, 30), device=CPU)
    assert torch.equal(a, b)                                 # a seeded initializer repeats itself
    assert not torch.equal(a, I.GlorotUniform(seed=4)((20, 30), device=CPU))
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    assert torch.equal(I.he_normal((50,), generator=g1, device=CPU), I.he_normal((50,), generator=g2, device=CPU))
    torch.manual_seed(5)
    c = I.lecun_normal((50,), device=CPU)
    torch.manual_seed(5)
    assert torch.equal(c, I.lecun_normal((50,), device=CPU))


def test_get_and_errors():
    assert isinstance(I.get("glorot_uniform"), I.GlorotUniform)
    assert isinstance(I.get("GlorotUniform"), I.GlorotUniform)
    assert isinstance(I.get("normal"), I.RandomNormal) and isinstance(I.get("zero"), I.Zeros)
    vs = I.get({"class_name": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_out"}})
    assert vs.scale == 2.0 and vs.mode == "fan_out"
    assert I.get(I.he_normal) is I.he_normal and I.get(None) is None
    assert isinstance(I.get(I.HeUniform), I.HeUniform)
    with pytest.raises(ValueError,
                       match="Could not interpret initializer identifier: glorot. .*valid names: .*glorot_uniform"):
        I.get("glorot")
    with pytest.raises(TypeError, match=r"builds an initializer; call the result with the shape"):
        I.random_normal((3, 3))
    with pytest.raises(ValueError, match="mode must be"):
        I.VarianceScaling(mode="fan")


# -- against Keras ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keras():
    tf = pytest.importorskip("tensorflow")
    return tf.keras


@pytest.mark.parity
@pytest.mark.parametrize("shape", SHAPES)
def test_fans_match_keras(keras, shape):
    from keras.src.initializers.random_initializers import compute_fans
    assert I.compute_fans(shape) == compute_fans(shape)


@pytest.mark.parity
@pytest.mark.parametrize("name", ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
                                  "lecun_normal"])
@pytest.mark.parametrize("shape", [(784, 512), (5, 5, 32, 64), (3136, 10)])
def test_spread_matches_keras_samples(keras, name, shape):
    """Keras' own samples on the same shape lie within our limit / 2σ bound, reach it, and have
    our standard deviation."""
    theirs = np.asarray(type(keras.initializers.get(name))(seed=1)(shape), np.float64)
    kind, value = I.get(name).spread(shape)
    bound = value if kind == "limit" else 2 * value
    assert np.abs(theirs).max() <= bound * (1 + 1e-6)
    assert np.abs(theirs).max() > 0.97 * bound
    expected_std = value / math.sqrt(3) if kind == "limit" else value * I.TRUNCATED_NORMAL_STD
    assert abs(theirs.std() / expected_std - 1) < 0.03
    ours = I.get(name)(shape, device=CPU).double().numpy()
    assert abs(ours.std() / theirs.std() - 1) < 0.04


@pytest.mark.parity
def test_plain_initializers_match_keras_defaults(keras):
    k = keras.initializers
    for name, attrs in [("random_normal", ("mean", "stddev")), ("random_uniform", ("minval", "maxval")),
                        ("truncated_normal", ("mean", "stddev"))]:
        ours, theirs = I.get(name), k.get(name)
        for a in attrs:
            assert getattr(ours, a) == getattr(theirs, a), (name, a)
