"""The merging layers (Subtract, Multiply, Average, Maximum, Minimum, Concatenate) against real Keras 3:
values, Keras' error messages, and a two-branch functional model (outputs, gradients, a fit step,
.keras files both ways). `Add` has its own test file."""
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

RNG = np.random.default_rng(0)
A, B, C = (RNG.normal(size=s).astype(np.float32) for s in [(2, 3, 4), (2, 3, 4), (2, 1, 4)])


@pytest.mark.parametrize("name", ["Multiply", "Average", "Maximum", "Minimum"])
def test_elementwise_merges_match_keras(name):
    for inputs in ([A, B, C], [A]):
        np.testing.assert_allclose(getattr(ours.layers, name)()(inputs).numpy(),
                                   getattr(real.layers, name)()(inputs).numpy(), rtol=1e-6)


def test_subtract_and_its_two_input_rule_match_keras():
    np.testing.assert_array_equal(ours.layers.Subtract()([A, B]).numpy(), real.layers.Subtract()([A, B]).numpy())
    for lib in (ours, real):
        with pytest.raises(ValueError, match="A `Subtract` layer should be called on exactly 2 inputs"):
            lib.layers.Subtract()([A, B, A])


@pytest.mark.parametrize("axis", [-1, 1, 0])
def test_concatenate_matches_keras(axis):
    parts = [A, B] if axis != 1 else [A, RNG.normal(size=(2, 5, 4)).astype(np.float32)]
    np.testing.assert_array_equal(ours.layers.Concatenate(axis=axis)(parts).numpy(),
                                  real.layers.Concatenate(axis=axis)(parts).numpy())
    assert ours.layers.Concatenate(axis=axis).get_config()["axis"] == real.layers.Concatenate(axis=axis).get_config()[
        "axis"]


def test_concatenate_errors_say_what_keras_says():
    for lib in (ours, real):
        with pytest.raises(ValueError, match="requires inputs with matching shapes except for the concatenation axis"):
            lib.layers.Concatenate()([A, RNG.normal(size=(2, 4, 4)).astype(np.float32)])
        with pytest.raises(ValueError, match="should be called on a list of at least 1 input"):
            lib.layers.Concatenate()(A)


def _two_branch(K):
    inputs = K.Input((8,))
    a = K.layers.Dense(5, activation="relu")(inputs)
    b = K.layers.Dense(3, activation="tanh")(inputs)
    joined = K.layers.Concatenate()([a, b])
    gate = K.layers.Multiply()([K.layers.Dense(8, activation="sigmoid")(joined), joined])
    outputs = K.layers.Dense(2, activation="softmax")(K.layers.Subtract()([gate, joined]))
    return K.Model(inputs, outputs)


def test_two_branch_model_outputs_gradients_fit_and_files_match_keras(tmp_path):
    theirs, mine = _two_branch(real), _two_branch(ours)
    mine.set_weights(theirs.get_weights())
    x = RNG.normal(size=(6, 8)).astype(np.float32)
    y = RNG.integers(0, 2, size=6)
    np.testing.assert_allclose(mine(x).numpy(), theirs(x).numpy(), rtol=1e-5, atol=1e-6)
    assert_same_gradients_and_fit_step(real, tf, ours, our_tf, theirs, mine, x, y)
    theirs.save(tmp_path / "theirs.keras")
    mine.save(tmp_path / "mine.keras")
    for path, reference in ((tmp_path / "theirs.keras", theirs), (tmp_path / "mine.keras", mine)):
        for loader in (ours.models.load_model, real.models.load_model):
            loaded = loader(str(path))
            assert [type(layer).__name__ for layer in loaded.layers] == \
                [type(layer).__name__ for layer in reference.layers]
            np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(reference(x)), rtol=1e-5, atol=1e-6)
