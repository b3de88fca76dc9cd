"""`keras.callbacks.TensorBoard`: Keras 3's folders and tags, written through `course.summary`.

    log_dir/train       epoch_loss, epoch_<metric>, epoch_learning_rate (step = epoch), the model's
                        config as `keras` (the Graphs tab), weight histograms `<model>/<layer>/<weight>/histogram`
                        (and with write_images, `.../image`)
    log_dir/validation  epoch_loss, epoch_<metric> from the val_ logs; evaluation_<name>_vs_iterations
                        (step = optimizer iterations) after each validation or evaluate()
    batch_<name>        every `update_freq` batches (an int, or "batch" for each) at the global batch

One difference on purpose: with an integer update_freq, Keras drops the epoch and evaluation
summaries of any epoch whose last batch number is not a multiple of it (tensorflow/tensorboard#4975);
here every epoch is logged.
"""
import time
import warnings

import numpy as np

from course import summary
from course.keras.callback import Callback
from course.keras.saving.weights_h5 import weight_path


def _weight_image(weight):
    """A weight as Keras draws it (or None): a bias as one column, a dense kernel with its longer side
    across, each filter of a one-channel conv kernel as an image of its own; values clipped to [0, 1]."""
    w = np.squeeze(np.asarray(weight.numpy()))
    if w.ndim == 1:                                  # bias: one column
        return w.reshape(1, -1, 1, 1)
    if w.ndim == 2:                                  # dense kernel (in, out)
        w = w.T if w.shape[0] > w.shape[1] else w
        return w.reshape(1, *w.shape, 1)
    if w.ndim == 3:                                  # conv kernel (h, w, out) of a one-channel input
        w = np.transpose(w, (2, 0, 1))
        return w.reshape(*w.shape, 1)
    return None                                      # deeper kernels have no picture


class TensorBoard(Callback):
    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0, embeddings_freq=0,
                 embeddings_metadata=None):
        super().__init__()
        if update_freq not in ("epoch", "batch") and not (isinstance(update_freq, int) and update_freq > 0):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive number of batches; "
                             f"got {update_freq!r}.")
        for what, value in [("profile_batch", profile_batch), ("embeddings_freq", embeddings_freq)]:
            if value:
                raise NotImplementedError(f"TensorBoard: {what}={value!r} is not supported here (no profiler or "
                                          f"embedding projector); leave it at its default.")
        self.log_dir = str(log_dir)
        self.histogram_freq = int(histogram_freq)
        self.write_graph = bool(write_graph)
        self.write_images = bool(write_images)
        self.write_steps_per_second = bool(write_steps_per_second)
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self._writers = {}
        self._global_train_batch = 0

    def _writer(self, which):                        # created on first use, as Keras does
        if which not in self._writers:
            self._writers[which] = summary.create_file_writer(f"{self.log_dir}/{which}")
        return self._writers[which]

    def set_model(self, model):
        super().set_model(model)
        self._close_writers()
        if self.write_graph and type(model).__name__ in ("Sequential", "Functional"):   # as Keras: no subclasses
            writer = self._writer("train")
            try:
                writer.write_model_config(model, "keras", 0)
            except Exception as exc:                 # as Keras: a model that cannot be serialised still trains
                warnings.warn(f"TensorBoard: the model's configuration could not be written ({exc}); training "
                              f"goes on without the Graphs tab.")
            writer.flush()

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        self._epoch_start = (time.perf_counter(), int(optimizer.iterations) if optimizer is not None else 0)

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1

    def on_train_batch_end(self, batch, logs=None):
        step = self._global_train_batch
        if self.update_freq != "epoch" and step % self.update_freq == 0:
            writer = self._writer("train")
            for name, value in dict(logs or {}).items():
                writer.write_scalar(f"batch_{name}", value, step)

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and logs:
            writer, step = self._writer("validation"), int(optimizer.iterations)
            for name, value in logs.items():
                writer.write_scalar(f"evaluation_{name}_vs_iterations", value, step)
            writer.flush()

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None:
            train["learning_rate"] = float(optimizer.learning_rate)
            if self.write_steps_per_second:
                started, iterations = self._epoch_start
                train["steps_per_second"] = (int(optimizer.iterations) - iterations) / (time.perf_counter() - started)
        for which, values in [("train", train), ("validation", val)]:
            if values:
                writer = self._writer(which)
                for name, value in values.items():
                    writer.write_scalar(f"epoch_{name}", value, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            writer = self._writer("train")
            for layer in self.model.layers:
                for weight in layer.weights:
                    path = weight_path(self.model, weight)
                    writer.write_histogram(f"{path}/histogram", weight, epoch)
                    image = _weight_image(weight) if self.write_images else None
                    if image is not None:
                        writer.write_image(f"{path}/image", image, epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        self._close_writers()

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
