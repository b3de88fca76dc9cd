"""`course train`: train a seed model on MNIST from the terminal.

Building the parser imports nothing heavy (no torch), so `course train --help` answers at once.
"""
import argparse
import math
import os
import sys
import time

__all__ = ["add_parser", "run", "build_model", "MODELS"]

MODELS = {"mlp": (5, 32), "cnn": (5, 32), "cnn-large": (10, 100), "speed": (4, 512)}  # default epochs, batch size
FAST_TRAIN, FAST_TEST = 2000, 1000


def build_model(name):
    """The seed's model, written with the course.tf.keras names exactly as the seed writes it."""
    from course.tf import keras
    layers = keras.layers
    if name == "mlp":
        return keras.Sequential([layers.Flatten(input_shape=(28, 28)), layers.Dense(128, activation="relu"),
                                 layers.Dropout(0.2), layers.Dense(10, activation="softmax")])
    if name == "cnn":
        return keras.Sequential([
            layers.Reshape(target_shape=(28, 28, 1), input_shape=(28, 28)),
            layers.Conv2D(32, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
            layers.Conv2D(64, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)),
            layers.Flatten(), layers.Dense(64, activation="relu"), layers.Dense(10, activation="softmax")])
    if name == "cnn-large":
        model = keras.Sequential()
        model.add(layers.Reshape((28, 28, 1), input_shape=(28 * 28,)))
        model.add(layers.Conv2D(filters=32, kernel_size=5, activation="relu", padding="same"))
        model.add(layers.MaxPooling2D(pool_size=(2, 2)))
        model.add(layers.Conv2D(filters=64, kernel_size=5, activation="relu", padding="same"))
        model.add(layers.MaxPooling2D(pool_size=(2, 2)))
        model.add(layers.Flatten())
        model.add(layers.Dense(units=1024, activation="relu"))
        model.add(layers.Dropout(0.5))
        model.add(layers.Dense(units=10, activation="softmax"))
        return model
    if name == "speed":
        from course.apps.speed import build_speed_model
        return build_speed_model()
    raise ValueError(f"Unknown model {name!r}; choose one of {sorted(MODELS)}.")


_DESCRIPTION = """\
Models (all use Adam and sparse categorical cross-entropy, as the seeds do):
  mlp        seed002's MLP: Flatten, Dense(128, relu), Dropout(0.2), Dense(10, softmax); 5 epochs, batch 32
  cnn        seed002's CNN: two Conv2D/MaxPooling2D blocks, Dense(64), Dense(10); 5 epochs, batch 32
  cnn-large  seed000's CNN: Conv2D(32, 5)/Conv2D(64, 5) 'same', Dense(1024), Dropout(0.5); 10 epochs, batch 100
  speed      time to 99%: two Conv2D-BatchNormalization-ReLU-pool blocks, Dense(128), Dense(10); Adam on a
             one-cycle schedule fixed in advance; 4 epochs, batch 512; an untimed warm-up fit on a throw-away copy

Writes model.keras, history.csv and history.png to the output folder. The last lines printed are
`Train time: 1.234 s (...)` (first training step to the end of the last, the device synchronised;
loading data and the warm-up are not timed) and `Test accuracy: 0.9812` (all 10,000 test images).
With COURSE_FAST=1: 2,000 training and 1,000 test images, 1 epoch."""


def add_parser(subparsers):
    p = subparsers.add_parser("train", help="train a seed model on MNIST (progress bar, model.keras, history)",
                              description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = ", ".join(f"{name} {epochs}" for name, (epochs, _) in MODELS.items())
    batches = ", ".join(f"{name} {batch}" for name, (_, batch) in MODELS.items())
    p.add_argument("--model", choices=list(MODELS), default="mlp", help="which seed model (default: mlp)")
    p.add_argument("--epochs", type=int, default=None, metavar="N", help=f"epochs (default: {defaults})")
    p.add_argument("--batch-size", type=int, default=None, metavar="B", help=f"batch size (default: {batches})")
    p.add_argument("--device", default=None, metavar="D",
                   help="cuda, cpu, mps (default: CUDA when present, else the CPU; COURSE_DEVICE overrides)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default: 0)")
    p.add_argument("--output", default=None, metavar="DIR", help="output folder (default: runs/MODEL-YYYYmmdd-HHMMSS)")
    p.add_argument("--limit", type=int, default=None, metavar="N",
                   help="train on the first N training images only (default: all 60,000)")
    p.add_argument("--warmup", type=int, default=None, metavar="STEPS",
                   help="untimed warm-up: train a throw-away copy of the model for STEPS batches first "
                        "(default: 10 for speed, 0 otherwise)")
    p.add_argument("--tensorboard", action="store_true",
                   help="also write TensorBoard logs to DIR/logs (needs the tensorboard package)")
    p.add_argument("--nproc", type=int, default=1, metavar="N",
                   help="train data-parallel in N processes on this machine (PyTorch DDP; --batch-size is then "
                        "the global batch; default: 1)")
    p.set_defaults(func=run)
    return p


def _compiled(name, steps_per_epoch, epochs):
    """The model `name`, compiled: the seeds' Adam, or the speed recipe's one-cycle schedule."""
    model = build_model(name)
    if name == "speed":
        from course.apps.speed import compile_speed
        return compile_speed(model, steps_per_epoch, epochs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _positive(value, name):
    if value is not None and value < 1:
        raise SystemExit(f"course train: --{name} must be a positive integer; got {value}.")


def run(args) -> int:
    import matplotlib
    matplotlib.use("Agg")

    import course.config
    import course.device
    import course.plot
    from course.tf import keras

    for name in ("epochs", "batch_size", "limit"):
        _positive(getattr(args, name), name.replace("_", "-"))
    if args.warmup is not None and args.warmup < 0:
        raise SystemExit(f"course train: --warmup must be 0 or a positive integer; got {args.warmup}.")
    if args.tensorboard:
        import course.summary
        try:
            course.summary.require_tensorboard()
        except ImportError as exc:
            print(f"course train --tensorboard: {exc}", file=sys.stderr)
            return 2
    from course.distributed import cli as dist_cli      # --nproc N > 1: run N copies of this command (DDP)
    status = dist_cli.maybe_launch(args)
    if status is not None:
        return status
    try:
        course.device.set_default(args.device) if args.device else course.device.get()
    except course.device.DeviceError as exc:
        print(f"course train: {exc}", file=sys.stderr)
        return 2
    course.device.seed(args.seed)
    default_epochs, default_batch = MODELS[args.model]
    epochs = args.epochs or default_epochs
    batch_size = args.batch_size or default_batch
    fast = course.config.fast_mode()

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    if fast:
        x_train, y_train = x_train[:FAST_TRAIN], y_train[:FAST_TRAIN]
        x_test, y_test = x_test[:FAST_TEST], y_test[:FAST_TEST]
        epochs = 1
    x_train = (x_train / 255.0).astype("float32")
    x_test = (x_test / 255.0).astype("float32")
    if args.model == "cnn-large":
        x_train, x_test = x_train.reshape(-1, 28 * 28), x_test.reshape(-1, 28 * 28)

    output = args.output or os.path.join("runs", f"{args.model}-{time.strftime('%Y%m%d-%H%M%S')}")
    if dist_cli.is_main():
        os.makedirs(output, exist_ok=True)
    print(f"course train: model {args.model}, {len(x_train):,} training images, {epochs} epoch(s), batch {batch_size}"
          + (" (COURSE_FAST=1)" if fast else ""), flush=True)
    course.device.announce(stream=sys.stdout)        # the one line naming the device

    from course.apps import speed
    device = course.device.get()
    speedy = args.model == "speed"
    if speedy:
        speed.fast_kernels(device)
    warmup = args.warmup if args.warmup is not None else (10 if speedy else 0)
    if warmup:
        throwaway = lambda: _compiled(args.model, max(warmup, 2), 1)          # noqa: E731
        seconds = speed.warm_up(throwaway, x_train, y_train, batch_size=batch_size, steps=warmup, device=device)
        print(f"Warm-up: {warmup} step(s) on a throw-away copy of the model, {seconds:.2f} s (not timed)",
              flush=True)
        course.device.seed(args.seed)               # the timed model starts as it would without a warm-up
    model = _compiled(args.model, math.ceil(len(x_train) / batch_size), epochs)
    timer = speed.TrainTimer(device)
    callbacks = [keras.callbacks.CSVLogger(os.path.join(output, "history.csv")), timer]
    if args.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(os.path.join(output, "logs")))
    history = dist_cli.fit(model, x_train, y_train, batch_size=batch_size, epochs=epochs, callbacks=callbacks,
                           verbose=2 if speedy else "auto")
    if not dist_cli.is_main():
        return 0
    steps = int(model.optimizer.iterations)
    print(f"Train time: {timer.seconds:.3f} s ({steps} steps, first step to the end of the last)", flush=True)
    if speedy:                                       # a .keras file stores the final learning rate, not the recipe
        model.optimizer.learning_rate = float(model.optimizer.learning_rate)
    model.save(os.path.join(output, "model.keras"))
    test_loss, test_acc = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    fig = course.plot.history(history, title=f"course train --model {args.model}",
                              test={"loss": test_loss, "accuracy": test_acc})
    fig.savefig(os.path.join(output, "history.png"), dpi=100)
    print(f"Saved model.keras, history.csv and history.png{' and logs/' if args.tensorboard else ''} to {output}",
          flush=True)
    print(f"Test images correct: {round(test_acc * len(y_test)):,} of {len(y_test):,}", flush=True)
    print(f"Test loss: {test_loss:.4f}", flush=True)
    print(f"Test accuracy: {test_acc:.4f}", flush=True)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="course")
    sub = parser.add_subparsers(dest="command")
    add_parser(sub)
    args = parser.parse_args(["train", *(sys.argv[1:] if argv is None else argv)])
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
