"""Differential test: `get_config()` of the everyday layers equals real Keras 3's, key for key and value for
value (names aside: both number them per session). Keras keeps sizes such as kernel_size and strides as
tuples in memory (a saved file's JSON makes lists of them); ours gave lists."""
import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
pytest.importorskip("tensorflow")
import keras as real  # noqa: E402  (Keras 3, installed with tensorflow)

from course.tf import keras as ours  # noqa: E402

pytestmark = [pytest.mark.parity]

LAYERS = {
    "dense": lambda L: L.Dense(4),
    "conv2d": lambda L: L.Conv2D(3, 3),
    "conv2d_args": lambda L: L.Conv2D(8, (5, 3), strides=2, padding="same", activation="relu"),
    "maxpool": lambda L: L.MaxPooling2D(),
    "maxpool_args": lambda L: L.MaxPooling2D(3, strides=2, padding="same"),
    "avgpool": lambda L: L.AveragePooling2D(2),
    "flatten": lambda L: L.Flatten(),
    "dropout": lambda L: L.Dropout(0.3),
    "batchnorm": lambda L: L.BatchNormalization(),
    "reshape": lambda L: L.Reshape((2, -1)),
    "rescaling": lambda L: L.Rescaling(1 / 255.0),
    "global_avg": lambda L: L.GlobalAveragePooling2D(),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_config_matches_keras(name):
    theirs, mine = LAYERS[name](real.layers).get_config(), LAYERS[name](ours.layers).get_config()
    theirs.pop("name")
    mine.pop("name")
    assert mine == theirs
    assert {k: type(v) for k, v in mine.items()} == {k: type(v) for k, v in theirs.items()}
