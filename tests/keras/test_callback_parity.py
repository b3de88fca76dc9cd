"""Differential tests of callbacks against real Keras 3: the same model, the same scripted monitor values,
compared on what each callback does per epoch (learning rates, saved files, printed lines, log keys)."""
import contextlib
import io
import os
import warnings

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
pytest.importorskip("tensorflow")
import keras as real  # noqa: E402  (Keras 3, installed with tensorflow)

from course.tf import keras as ours  # noqa: E402

pytestmark = [pytest.mark.parity,
              pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")]

rng = np.random.RandomState(0)
X = rng.rand(16, 4).astype(np.float32)
Y = rng.randint(0, 2, 16)


def _fit(lib, callbacks, *, epochs, script=None, validation=False):
    """fit a small model with `callbacks`; `script` (one value per epoch) replaces logs['val_loss'] before
    the callbacks see it. Returns (history, printed lines, warnings)."""
    class Script(lib.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = script[epoch]
    model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=lib.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(X, Y, epochs=epochs, verbose=0, shuffle=False,
                            callbacks=([Script()] if script else []) + callbacks,
                            validation_data=(X, Y) if validation else None)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    return history, lines, [str(w.message) for w in caught]


def test_reduce_lr_on_plateau_stops_at_min_lr_as_keras():
    """min_lr=0.001 is 0.0010000000475 once stored in float32. Keras compares the rate with float32(min_lr),
    so after reaching it nothing more happens; ours compared with the float 0.001 and 'reduced' 0.001 to
    0.001 every epoch after (printing the message each time and restarting the cooldown)."""
    worse = [1.0] + [1.0 + 0.01 * i for i in range(1, 10)]
    runs = {lib: _fit(lib, [lib.callbacks.ReduceLROnPlateau(patience=1, factor=0.1, min_lr=0.001, verbose=1)],
                      epochs=10, script=worse) for lib in (real, ours)}
    (h_real, lines_real, _), (h_ours, lines_ours, _) = runs[real], runs[ours]
    assert lines_ours == lines_real and len(lines_real) == 2
    np.testing.assert_allclose(h_ours.history["learning_rate"], h_real.history["learning_rate"], rtol=1e-7)


def test_checkpoint_best_only_without_its_monitor_saves_every_epoch_as_keras(tmp_path):
    """save_best_only=True but no 'val_loss' in the logs (no validation data): Keras 3 warns and saves
    anyway, every epoch; ours warned and saved nothing."""
    saved = {}
    for lib in (real, ours):
        folder = tmp_path / lib.__name__
        _, lines, caught = _fit(lib, [lib.callbacks.ModelCheckpoint(str(folder / "m{epoch:02d}.keras"),
                                                                     save_best_only=True)], epochs=2)
        saved[lib] = sorted(os.listdir(folder)) if folder.exists() else []
        assert any("val_loss" in message for message in caught)
    assert saved[ours] == saved[real] == ["m01.keras", "m02.keras"]


def test_checkpoint_takes_a_legacy_h5_path_as_keras(tmp_path):
    """Keras 3 accepts ModelCheckpoint('model.h5') (the legacy whole-model format); ours refused it."""
    path = tmp_path / "model.h5"
    _fit(ours, [ours.callbacks.ModelCheckpoint(str(path))], epochs=1)
    loaded = real.models.load_model(str(path))
    assert loaded.predict(X, verbose=0).shape == (16, 2)


def test_history_keys_are_sorted_as_keras_logs_are():
    """Keras 3 hands every callback its logs sorted by name, so history.history lists 'accuracy', 'loss',
    'val_accuracy', 'val_loss' (ours: 'loss' first, the order the values were computed in)."""
    keys = {lib: list(_fit(lib, [], epochs=1, validation=True)[0].history) for lib in (real, ours)}
    assert keys[ours] == keys[real] == ["accuracy", "loss", "val_accuracy", "val_loss"]
