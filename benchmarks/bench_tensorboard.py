"""What does logging to TensorBoard cost a `fit`? (seed002's MLP, batch 32, Adam)

Alternating in one process, one epoch of N batches each:

    plain      model.fit(...) with no callback
    epoch      + TensorBoard(histogram_freq=1): scalars and a histogram of every weight per epoch
    batch      + TensorBoard(update_freq="batch"): also batch_loss and batch_accuracy after every batch

    python benchmarks/bench_tensorboard.py --batches 1875 --repeats 5

Prints the median seconds per epoch and the ratios to `plain`.
"""
import argparse
import statistics
import tempfile
import time

from course.data import load_mnist_numpy
from course.apps.train import build_model
from course.tf import keras

CALLBACKS = {
    "plain": lambda folder: [],
    "epoch": lambda folder: [keras.callbacks.TensorBoard(folder, histogram_freq=1)],
    "batch": lambda folder: [keras.callbacks.TensorBoard(folder, update_freq="batch")],
}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batches", type=int, default=1875, help="batches of 32 per timed epoch (1875 = all of MNIST)")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)

    (x, y), _ = load_mnist_numpy()
    n = min(len(x), 32 * args.batches)
    x, y = (x[:n] / 255.0).astype("float32"), y[:n]
    models = {}
    for name in CALLBACKS:
        keras.utils.set_random_seed(0)
        models[name] = build_model("mlp")
        models[name].compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        models[name].fit(x[:320], y[:320], batch_size=32, epochs=1, verbose=0)          # warm-up
    seconds = {name: [] for name in CALLBACKS}
    with tempfile.TemporaryDirectory() as logs:
        for repeat in range(args.repeats):
            for name, make in CALLBACKS.items():                                         # alternate
                callbacks = make(f"{logs}/{name}-{repeat}")
                start = time.perf_counter()
                models[name].fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=callbacks)
                seconds[name].append(time.perf_counter() - start)

    base = statistics.median(seconds["plain"])
    print(f"seed002 MLP, {n:,} images, batch 32, median of {args.repeats}")
    print(f"{'':8s}{'s/epoch':>10s}{'ratio':>8s}")
    for name, values in seconds.items():
        median = statistics.median(values)
        print(f"{name:8s}{median:10.3f}{median / base:8.3f}")


if __name__ == "__main__":
    main()
