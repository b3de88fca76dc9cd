"""Callbacks (the loop only calls hooks) and saving: behaviour, atomicity, clear errors."""
import csv
import os
import re
import zipfile

import numpy as np
import pytest

from course.tf import keras
from course.tf.keras import layers


def data(n=128, seed=0):
    r = np.random.RandomState(seed)
    x = r.randn(n, 4).astype(np.float32)
    return x, (x[:, 0] + x[:, 1] > 0).astype(np.int64)


def model(lr=0.05):
    m = keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="relu"), layers.Dense(2, activation="softmax")])
    m.compile(optimizer=keras.optimizers.SGD(lr), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


class Scripted(keras.callbacks.Callback):
    """Replaces the monitored value with a script, to drive EarlyStopping deterministically."""

    def __init__(self, values):
        super().__init__()
        self.values = list(values)
        self.weights_at = []

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = self.values[epoch]
        self.weights_at.append(self.model.get_weights())


def test_early_stopping_restores_best_weights():
    x, y = data()
    m = model()
    script = Scripted([1.0, 0.5, 0.7, 0.8, 0.9, 0.95])
    stop = keras.callbacks.EarlyStopping(monitor="score", patience=2, restore_best_weights=True)
    hist = m.fit(x, y, epochs=6, verbose=0, callbacks=[script, stop])
    assert len(hist.history["loss"]) == 4 and stop.stopped_epoch == 3          # epochs 2 and 3 did not improve
    for got, best in zip(m.get_weights(), script.weights_at[1]):
        np.testing.assert_array_equal(got, best)


def test_model_checkpoint_best_only(tmp_path):
    x, y = data()
    m = model()
    path = str(tmp_path / "best.keras")
    script = Scripted([3.0, 1.0, 2.0])
    ckpt = keras.callbacks.ModelCheckpoint(path, monitor="score", mode="min", save_best_only=True)
    m.fit(x, y, epochs=3, verbose=0, callbacks=[script, ckpt])
    loaded = keras.models.load_model(path)
    for got, best in zip(loaded.get_weights(), script.weights_at[1]):
        np.testing.assert_array_equal(got, best)


def test_model_checkpoint_failing_write_keeps_old_file(tmp_path, monkeypatch):
    x, y = data()
    m = model()
    path = str(tmp_path / "w.weights.h5")
    m.fit(x, y, epochs=1, verbose=0, callbacks=[keras.callbacks.ModelCheckpoint(path, save_weights_only=True)])
    before = open(path, "rb").read()
    import course.keras.saving.weights_h5 as weights_h5

    def broken(model, tmp, include_optimizer):
        with open(tmp, "wb") as f:
            f.write(b"half a file")
        raise OSError("disk full")
    monkeypatch.setattr(weights_h5, "write_h5", broken)
    with pytest.raises(OSError, match="disk full"):
        m.fit(x, y, epochs=1, verbose=0, callbacks=[keras.callbacks.ModelCheckpoint(path, save_weights_only=True)])
    assert open(path, "rb").read() == before
    assert [f for f in os.listdir(tmp_path) if f.startswith(".tmp")] == []


def test_terminate_on_nan_and_lambda_and_csv(tmp_path):
    x, y = data()
    m = model(lr=1e30)                                     # diverges at once
    seen = []
    log = str(tmp_path / "log.csv")
    hist = m.fit(x, y, epochs=3, batch_size=16, verbose=0,
                 callbacks=[keras.callbacks.TerminateOnNaN(), keras.callbacks.CSVLogger(log),
                            keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(e))])
    assert seen == [0] and len(hist.history["loss"]) == 1
    rows = list(csv.DictReader(open(log)))
    assert list(rows[0]) == ["epoch", "accuracy", "loss"] and rows[0]["epoch"] == "0"


def test_reduce_lr_on_plateau():
    x, y = data()
    m = model(lr=0.1)
    script = Scripted([1.0, 1.0, 1.0, 1.0])
    m.fit(x, y, epochs=4, verbose=0,
          callbacks=[script, keras.callbacks.ReduceLROnPlateau(monitor="score", factor=0.5, patience=1)])
    assert float(m.optimizer.learning_rate) == pytest.approx(0.1 * 0.5 ** 3)


def test_progress_output_verbose_2(capsys):
    x, y = data()
    model().fit(x, y, epochs=2, verbose=2)
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0] == "Epoch 1/2" and out[2] == "Epoch 2/2"
    assert re.fullmatch(r"4/4 - \d+m?s - \d+(us|ms|s)/step - accuracy: 0\.\d{4} - loss: \d\.\d{4}", out[1]), out[1]


def test_save_load_round_trip_same_predictions(tmp_path):
    x, y = data()
    m = keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="relu"), layers.BatchNormalization(),
                          layers.Dropout(0.1), layers.Dense(2, activation="softmax")])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    m.fit(x, y, epochs=2, verbose=0)
    path = str(tmp_path / "m.keras")
    m.save(path)
    assert sorted(zipfile.ZipFile(path).namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
    back = keras.models.load_model(path)
    np.testing.assert_array_equal(back.predict(x, verbose=0), m.predict(x, verbose=0))
    assert int(back.optimizer.iterations) == int(m.optimizer.iterations)
    keras.utils.set_random_seed(1)                          # same dropout masks in both runs
    h1 = m.fit(x, y, epochs=1, verbose=0, shuffle=False).history["loss"]
    keras.utils.set_random_seed(1)
    h2 = back.fit(x, y, epochs=1, verbose=0, shuffle=False).history["loss"]
    assert h1 == pytest.approx(h2, rel=1e-5)                # the optimizer state came back too
    wpath = str(tmp_path / "m.weights.h5")
    m.save_weights(wpath)
    back.load_weights(wpath)
    np.testing.assert_array_equal(back.predict(x, verbose=0), m.predict(x, verbose=0))


def test_subclassed_model_weights_round_trip(tmp_path):
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.d1 = layers.Dense(5, activation="relu")
            self.d2 = layers.Dense(2)

        def call(self, x):
            return self.d2(self.d1(x))
    x, _ = data()
    a, b = Net(), Net()
    a(x), b(x)
    path = str(tmp_path / "net.weights.h5")
    a.save_weights(path)
    b.load_weights(path)
    np.testing.assert_array_equal(a.predict(x, verbose=0), b.predict(x, verbose=0))


def test_corrupt_and_foreign_files_give_clear_errors(tmp_path):
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"this is not a zip file at all")
    with pytest.raises(ValueError, match="not a Keras 3 '.keras' file"):
        keras.models.load_model(str(bad))
    foreign = tmp_path / "foreign.keras"
    with zipfile.ZipFile(foreign, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="lacks"):
        keras.models.load_model(str(foreign))
    with pytest.raises(FileNotFoundError):
        keras.models.load_model(str(tmp_path / "missing.keras"))
    m = model()
    other = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.Dense(2)])
    path = str(tmp_path / "other.weights.h5")
    other.save_weights(path)
    with pytest.raises(ValueError, match="do not fit this model"):
        m.load_weights(path)


def _checkpoint_every(keras_module, folder, start, save_freq):
    x, y = data(64)
    m = keras_module.Sequential([keras_module.Input((4,)), keras_module.layers.Dense(8, activation="relu"),
                                 keras_module.layers.Dense(2, activation="softmax")])
    m.set_weights(start)
    m.compile(optimizer=keras_module.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy")
    path = os.path.join(folder, "ck", "cp-{epoch:02d}-{batch:03d}.weights.h5")     # "ck" does not exist yet
    m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0,
          callbacks=[keras_module.callbacks.ModelCheckpoint(path, save_weights_only=True, save_freq=save_freq)])
    return sorted(os.listdir(os.path.join(folder, "ck")))


def test_model_checkpoint_every_n_batches_saves_where_keras_does(tmp_path):
    """save_freq=5 with 8 batches an epoch: after batches 5, 10 and 15 overall, with Keras' file names,
    and each file holds the weights Keras saved there (same start, SGD, no shuffling)."""
    real = pytest.importorskip("keras")
    start = model().get_weights()
    theirs = _checkpoint_every(real, str(tmp_path / "keras"), start, 5)
    ours = _checkpoint_every(keras, str(tmp_path / "ours"), start, 5)
    assert ours == theirs == ["cp-01-005.weights.h5", "cp-02-002.weights.h5", "cp-02-007.weights.h5"]
    for name in ours:
        restored = []
        for module, folder in [(keras, "ours"), (real, "keras")]:
            m = module.Sequential([module.Input((4,)), module.layers.Dense(8, activation="relu"),
                                   module.layers.Dense(2, activation="softmax")])
            m.load_weights(str(tmp_path / folder / "ck" / name))
            restored.append(m.get_weights())
        for a, b in zip(*restored):
            np.testing.assert_allclose(a, b, atol=1e-5)


def test_model_checkpoint_rejects_a_bad_save_freq():
    for bad in ("batch", 0, 2.5, True):
        with pytest.raises(ValueError, match="save_freq"):
            keras.callbacks.ModelCheckpoint("m.keras", save_freq=bad)


@pytest.mark.parametrize("direction", ["ours->ours", "ours->keras", "keras->ours"])
def test_saved_compile_config_keeps_metric_objects(tmp_path, direction):
    """compile(metrics=[a Metric object, 'accuracy', ...]) survives model.save/load_model, as in Keras 3:
    evaluate() returns [loss, *metrics] after loading (TF's 'Save and load models' tutorial relies on it)."""
    real = pytest.importorskip("keras") if "keras" in direction else None
    save_with, load_with = [keras if side == "ours" else real for side in direction.split("->")]
    x, y = data(32)
    m = save_with.Sequential([save_with.Input((4,)), save_with.layers.Dense(2)])
    m.compile("adam", save_with.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=[save_with.metrics.SparseCategoricalAccuracy(), "accuracy",
                       save_with.metrics.SparseTopKCategoricalAccuracy(k=1, name="top1")])
    m.save(str(tmp_path / "m.keras"))
    loaded = load_with.models.load_model(str(tmp_path / "m.keras"))
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), m.evaluate(x, y, verbose=0), rtol=1e-5)
    assert len(loaded.evaluate(x, y, verbose=0)) == 4


@pytest.mark.parametrize("direction", ["ours->ours", "ours->keras", "keras->ours"])
def test_legacy_h5_model_file_round_trips_with_keras(tmp_path, direction):
    """model.save('m.h5') / load_model('m.h5'), Keras' legacy HDF5 format: the same predictions and
    compile settings whichever library wrote or reads it."""
    real = pytest.importorskip("keras") if "keras" in direction else None
    save_with, load_with = [keras if side == "ours" else real for side in direction.split("->")]
    x, y = data(32)
    m = save_with.Sequential([save_with.Input((4,)), save_with.layers.Dense(8, activation="relu"),
                              save_with.layers.BatchNormalization(), save_with.layers.Dropout(0.2),
                              save_with.layers.Dense(2)])
    m.compile("adam", save_with.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=[save_with.metrics.SparseCategoricalAccuracy()])
    m.fit(x, y, epochs=2, verbose=0)                                      # moves BatchNorm's statistics too
    m.save(str(tmp_path / "m.h5"))
    loaded = load_with.models.load_model(str(tmp_path / "m.h5"))
    np.testing.assert_allclose(loaded.predict(x, verbose=0), m.predict(x, verbose=0), atol=1e-5)
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), m.evaluate(x, y, verbose=0), rtol=1e-5)


def test_legacy_h5_errors(tmp_path):
    m = model()
    m.build((None, 4))
    m.save_weights(str(tmp_path / "w.weights.h5"))
    os.rename(tmp_path / "w.weights.h5", tmp_path / "w.h5")
    with pytest.raises(ValueError, match="weights-only"):
        keras.models.load_model(str(tmp_path / "w.h5"))
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="not a readable HDF5"):
        keras.models.load_model(str(tmp_path / "junk.h5"))


def test_checkpoint_saves_clean_up_after_a_writer_killed_mid_save(tmp_path):
    """A process killed while writing leaves its temporary; the next save of that file removes it."""
    import signal
    import subprocess
    import sys
    target = tmp_path / "ckpt.keras"
    writer = ("import sys, time\n"
              "from course.atomic_file import atomic_write\n"
              "def write(tmp):\n"
              "    open(tmp, 'wb').write(b'x' * 1000)\n"
              "    print('writing', flush=True)\n"
              "    time.sleep(60)\n"
              "atomic_write(sys.argv[1], write)\n")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.Popen([sys.executable, "-c", writer, str(target)], stdout=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": root})
    assert proc.stdout.readline().strip() == b"writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    litter = [p.name for p in tmp_path.iterdir()]
    assert len(litter) == 1 and litter[0].startswith(".ckpt.keras.tmp-")
    x, y = data()
    m = model()
    m.fit(x, y, epochs=1, verbose=0, callbacks=[keras.callbacks.ModelCheckpoint(str(target))])
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.keras"]
