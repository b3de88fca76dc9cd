"""Differential tests: an optimizer driven by a learning-rate schedule, saved and loaded across real Keras 3
and this kit.

Keras 3 creates a `learning_rate` variable only for a constant rate: with a schedule its variables are
iterations then the slots (Adam: 1 + 2 per weight). Ours always wrote the rate as variable 1, so each
side skipped the other's optimizer state on load (Keras with a warning, ours silently): iterations went
back to 0 and the schedule restarted from its initial rate."""
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
X = rng.rand(64, 5).astype(np.float32)
Y = rng.randint(0, 3, 64)


def _trained(lib):
    model = lib.Sequential([lib.Input((5,)), lib.layers.Dense(3, activation="softmax")])
    schedule = lib.optimizers.schedules.ExponentialDecay(0.01, decay_steps=4, decay_rate=0.5)
    model.compile(optimizer=lib.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy")
    model.fit(X, Y, batch_size=16, epochs=2, verbose=0)                  # 8 steps: the rate is now 0.0025
    return model


@pytest.mark.parametrize("writer, reader", [(real, ours), (ours, real)], ids=["keras->ours", "ours->keras"])
def test_scheduled_optimizer_state_crosses_between_libraries(tmp_path, writer, reader):
    model = _trained(writer)
    path = str(tmp_path / "model.keras")
    model.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)          # Keras warns when it skips the optimizer state
        loaded = reader.models.load_model(path)
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) == 8
    assert float(loaded.optimizer.learning_rate) == pytest.approx(float(model.optimizer.learning_rate), rel=1e-7)
    saved = [np.asarray(v) for v in model.optimizer.variables]
    restored = [np.asarray(v) for v in loaded.optimizer.variables]
    assert len(saved) == len(restored) == 5                   # iterations, m and v of the kernel and the bias
    for a, b in zip(saved, restored):
        np.testing.assert_array_equal(a, b)                   # stored and read back bit for bit


def test_scheduled_optimizer_has_keras_variables_and_summary_count(capsys):
    theirs, mine = _trained(real), _trained(ours)
    assert len(mine.optimizer.variables) == len(theirs.optimizer.variables) == 5
    lines = {}
    for key, model in (("theirs", theirs), ("mine", mine)):
        model.summary()
        lines[key] = [line for line in capsys.readouterr().out.splitlines() if "Optimizer params" in line]
    assert lines["mine"] == lines["theirs"] and lines["mine"]
