"""`layers.Add` against real Keras 3: the sum itself, a residual block in the functional API (outputs,
gradients, one fit step, save and load), and the errors for a non-list and mismatched shapes."""
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
tf = pytest.importorskip("tensorflow")
import keras as real  # noqa: E402  (Keras 3, installed with tensorflow)

from course import tf as our_tf  # noqa: E402
from course.tf import keras as ours  # noqa: E402
from keras_parity import assert_same_gradients_and_fit_step  # noqa: E402

pytestmark = [pytest.mark.parity,
              pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")]   # TF's own


def _residual(K):
    inputs = K.Input((6, 6, 3))
    x = K.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    y = K.layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    y = K.layers.Conv2D(4, 3, padding="same")(y)
    x = K.layers.Activation("relu")(K.layers.Add()([x, y]))
    outputs = K.layers.Dense(2, activation="softmax")(K.layers.Flatten()(x))
    return K.Model(inputs, outputs)


def _models():
    theirs, mine = _residual(real), _residual(ours)
    mine.set_weights(theirs.get_weights())
    return theirs, mine


def test_add_sums_a_list_with_broadcast_axes_like_keras():
    rng = np.random.default_rng(0)
    a, b, c = (rng.normal(size=s).astype(np.float32) for s in [(2, 3, 4), (2, 3, 4), (2, 1, 4)])
    np.testing.assert_allclose(ours.layers.Add()([a, b, c]).numpy(), real.layers.Add()([a, b, c]).numpy(), rtol=1e-6)
    np.testing.assert_array_equal(ours.layers.Add()([a]).numpy(), real.layers.Add()([a]).numpy())


def test_residual_block_outputs_gradients_and_a_fit_step_match_keras():
    theirs, mine = _models()
    assert mine.count_params() == theirs.count_params()
    assert [type(layer).__name__ for layer in mine.layers] == [type(layer).__name__ for layer in theirs.layers]
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 6, 6, 3)).astype(np.float32)
    y = rng.integers(0, 2, size=5)
    np.testing.assert_allclose(mine(x).numpy(), theirs(x).numpy(), rtol=1e-5, atol=1e-6)   # float32 sums of 27
    assert_same_gradients_and_fit_step(real, tf, ours, our_tf, theirs, mine, x, y)


def test_residual_model_saved_by_keras_loads_here(tmp_path):
    theirs, _ = _models()
    path = str(tmp_path / "residual.keras")
    theirs.save(path)
    loaded = ours.models.load_model(path)
    x = np.random.default_rng(2).normal(size=(3, 6, 6, 3)).astype(np.float32)
    assert "Add" in [type(layer).__name__ for layer in loaded.layers]
    np.testing.assert_allclose(loaded(x).numpy(), theirs(x).numpy(), rtol=1e-5, atol=1e-6)


def test_residual_model_saved_here_loads_in_keras_and_here(tmp_path):
    _, mine = _models()
    path = str(tmp_path / "residual.keras")
    mine.save(path)
    x = np.random.default_rng(3).normal(size=(3, 6, 6, 3)).astype(np.float32)
    np.testing.assert_allclose(real.models.load_model(path)(x).numpy(), mine(x).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.models.load_model(path)(x).numpy(), mine(x).numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("args", [lambda a, b: a, lambda a, b: [a, b[:, :2]]])
def test_add_refuses_what_keras_refuses(args):
    a, b = np.ones((2, 3, 4), np.float32), np.ones((2, 3, 4), np.float32)
    with pytest.raises(ValueError):
        real.layers.Add()(args(a, b))
    with pytest.raises(ValueError, match="list of inputs|incompatible shapes"):
        ours.layers.Add()(args(a, b))
