"""Time-to-accuracy recipe of `course train --model speed`: its model, schedule, warm-up and timer.

The clock covers training only, as time-to-accuracy records count it:

    start   fit's on_train_begin (data already on the device), after a device synchronisation
    stop    fit's on_train_end, after a device synchronisation (every queued step has finished)

Not timed: process start, loading MNIST and moving it to the device, and one warm-up `fit` of a
few steps on a throw-away copy of the model (cuDNN picks its algorithms, the allocator fills its
caches). The timed model starts from its own seeded initial weights and never sees the warm-up.
"""
import math
import time

import torch

from course.optim.schedules import LearningRateSchedule
from course.tf import keras

__all__ = ["PEAK_LR", "build_speed_model", "OneCycle", "compile_speed", "fast_kernels", "TrainTimer", "warm_up"]

PEAK_LR = 0.005           # with `course train`'s epochs and batch size: fixed before any test-set run


def build_speed_model():
    """A small CNN for speed: two Conv-BN-ReLU-pool blocks, Dense(128) and Dense(10) (about 420k weights).

    BatchNormalization's momentum is 0.9, not Keras' 0.99: the run is only a few hundred steps and
    the moving statistics used at test time must forget their initial values (0.99**472 = 0.009)."""
    L = keras.layers
    return keras.Sequential([
        L.Reshape(target_shape=(28, 28, 1), input_shape=(28, 28)),
        L.Conv2D(32, 3, padding="same", use_bias=False), L.BatchNormalization(momentum=0.9), L.ReLU(),
        L.MaxPooling2D(2),                                                           # (N, 14, 14, 32)
        L.Conv2D(64, 3, padding="same", use_bias=False), L.BatchNormalization(momentum=0.9), L.ReLU(),
        L.MaxPooling2D(2),                                                           # (N, 7, 7, 64)
        L.Flatten(), L.Dense(128, activation="relu"), L.Dense(10, activation="softmax")])


class OneCycle(LearningRateSchedule):
    """One-cycle learning rate (Smith & Topin, 2018), the form of torch's `OneCycleLR` with cosine
    annealing, for the 0-based step t of `total_steps`:

        lr0 = peak / div_factor,  lr_min = lr0 / final_div_factor,  a = pct_start · total - 1
        t <= a:  lr = cos_anneal(lr0, peak, t / a)
        t >  a:  lr = cos_anneal(peak, lr_min, (t - a) / (total - 1 - a))
        cos_anneal(start, end, p) = end + (start - end) · (1 + cos(π·p)) / 2

    Steps past the end keep the last value. Computed on the host from the step number, so it
    costs no device synchronisation."""

    def __init__(self, peak, total_steps, pct_start=0.25, div_factor=25.0, final_div_factor=1e4):
        if int(total_steps) < 2 or not 0.0 < float(pct_start) < 1.0:
            raise ValueError(f"OneCycle needs total_steps >= 2 and 0 < pct_start < 1; got total_steps={total_steps}, "
                             f"pct_start={pct_start}. Train for more steps (smaller batch or more epochs).")
        self.peak, self.total_steps, self.pct_start = float(peak), int(total_steps), float(pct_start)
        self.div_factor, self.final_div_factor = float(div_factor), float(final_div_factor)

    def __call__(self, step):
        t = min(int(step), self.total_steps - 1)
        lr0 = self.peak / self.div_factor
        a = self.pct_start * self.total_steps - 1                    # the last step of the rise
        if t <= a:
            start, end, p = lr0, self.peak, t / a if a > 0 else 1.0
        else:
            start, end, p = self.peak, lr0 / self.final_div_factor, (t - a) / (self.total_steps - 1 - a)
        return end + (start - end) * (1.0 + math.cos(math.pi * p)) / 2.0

    def get_config(self):
        return {"peak": self.peak, "total_steps": self.total_steps, "pct_start": self.pct_start,
                "div_factor": self.div_factor, "final_div_factor": self.final_div_factor}


def compile_speed(model, steps_per_epoch, epochs, peak=PEAK_LR):
    """Adam on a one-cycle schedule over exactly `epochs` epochs; sparse cross-entropy, accuracy."""
    schedule = OneCycle(peak, steps_per_epoch * epochs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=schedule),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def fast_kernels(device):
    """TensorFloat-32 matrix products and cuDNN's autotuner on CUDA. TensorFlow enables TF32 by
    default on GPUs that have it; the autotuner times each new shape once (the warm-up's job)."""
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True


def _synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class TrainTimer(keras.callbacks.Callback):
    """Seconds from the first training step to the end of the last one (device synchronised at both ends)."""

    def __init__(self, device):
        super().__init__()
        self.device, self.start, self.seconds = device, None, None

    def on_train_begin(self, logs=None):
        _synchronize(self.device)
        self.start = time.perf_counter()

    def on_train_end(self, logs=None):
        _synchronize(self.device)
        self.seconds = time.perf_counter() - self.start


def warm_up(build, x, y, *, batch_size, steps, device):
    """Train a throw-away model (`build()`, compiled) for `steps` batches; return its wall seconds.

    It runs the very kernels the timed run will run (same shapes, same optimizer, same loss), so
    one-off costs -- cuDNN's algorithm search, CUDA context and allocator growth, lazy imports --
    are paid here. It draws from torch's random generator, so seed after it, not before."""
    t0 = time.perf_counter()
    model = build()
    last = len(x) % batch_size or batch_size            # the timed epoch's last batch has this size too
    n = min(len(x), (steps - 1) * batch_size + last)
    model.fit(x[:n], y[:n], batch_size=batch_size, epochs=1, verbose=0)
    model.evaluate(x[:batch_size], y[:batch_size], batch_size=batch_size, verbose=0)
    _synchronize(device)
    return time.perf_counter() - t0
