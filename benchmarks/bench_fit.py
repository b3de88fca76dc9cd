"""How much does `model.fit` cost over a hand-written PyTorch loop? (target: at most 1.15x)

For seed002's MLP and CNN (batch 32), seed000's larger CNN (`cnn-large`, batch 100, the seed's)
and `course train --model speed`'s CNN (`speed`, batch 512, with BatchNormalization), Adam, the
loop also counting accuracy, alternating in one process so that a busy machine slows every
contender alike:

    ours     course.keras Sequential.compile(...).fit(x, y, batch_size=32, epochs=1, verbose=0)
    hand     a torch nn.Sequential, torch.optim.Adam(foreach=True), the same in-memory device
             tensors, a seeded permutation and index slicing per batch
    loader   the same model and optimizer fed by torch DataLoader(TensorDataset(...), shuffle=True)
    keras    real Keras 3 `fit` (when TensorFlow is installed) in a worker process whose epochs take
             their turn in the alternation: TensorFlow's defaults, and again with TF_ENABLE_ONEDNN_OPTS=1
    before   with `--before DIR`: our `fit` as a checkout of an earlier commit in DIR has it (e.g.
             `git worktree add ../before <rev>`), in a worker process that takes its turn likewise

    python benchmarks/bench_fit.py --batches 200 --repeats 5 [--models mlp,cnn,cnn-large,speed]
                                   [--device cuda] [--no-keras] [--threads N] [--clock wall|cpu]
                                   [--before DIR]

Prints the median seconds per epoch-of-N-batches, the ratios to `hand`, and per model the goal
line `goal fit/hand <= 1.15: x1.07 (met)`; for the CNNs also `goal TF-oneDNN/fit >= 1.15`: real
Keras with oneDNN on takes at least 1.15x our time (run `--models cnn,cnn-large`).
"""
import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import course.device
from course.data import load_mnist_numpy
from course.apps.train import build_model


BATCH = {"mlp": 32, "cnn": 32, "cnn-large": 100, "speed": 512}   # Keras' default; seed000's; course train's
FLAT = {"cnn-large"}                                       # seed000 feeds 784-long rows
KERAS_KINDS = {"mlp", "cnn", "cnn-large"}                  # the models the Keras worker builds
TARGET = 1.15                                              # fit's time over the hand-written loop's
CLOCK = [time.perf_counter]                                # --clock cpu: time.process_time (all threads' CPU)
TF_SPEEDUP = 1.15                                          # the CNN fits: TF oneDNN's time over ours, at least
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))     # this checkout, for the Keras worker's data


def ours_model(kind):
    return build_model(kind)                               # the seeds' models as `course train` builds them


def torch_model(kind):
    """The same network written the usual PyTorch way (NCHW, logits out, cross_entropy on logits)."""
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
    if kind == "cnn":
        return nn.Sequential(nn.Unflatten(1, (1, 28)), nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 64),
                             nn.ReLU(), nn.Linear(64, 10))
    if kind == "speed":                                    # BatchNorm2d momentum 0.1 = Keras' 0.9; Keras' epsilon
        return nn.Sequential(nn.Unflatten(1, (1, 28)), nn.Conv2d(1, 32, 3, padding=1, bias=False),
                             nn.BatchNorm2d(32, eps=1e-3, momentum=0.1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64, eps=1e-3, momentum=0.1),
                             nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3136, 10))
    return nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(3136, 1024), nn.ReLU(), nn.Dropout(0.5), nn.Linear(1024, 10))


def hand_epoch(model, opt, x, y, batch_size, sync):
    """One epoch of the canonical loop; returns (seconds, accuracy)."""
    n = len(x)
    t0 = CLOCK[0]()
    perm = torch.randperm(n).to(x.device)
    correct = torch.zeros((), device=x.device, dtype=torch.long)
    loss_sum = torch.zeros((), device=x.device)
    model.train()
    for i in range(0, n, batch_size):
        idx = perm[i:i + batch_size]
        xb, yb = x[idx], y[idx]
        out = model(xb)
        loss = F.cross_entropy(out, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            loss_sum += loss.detach() * len(yb)
            correct += (out.argmax(1) == yb).sum()
    acc = correct.item() / n
    sync()
    return CLOCK[0]() - t0, acc


def loader_epoch(model, opt, loader, n, sync):
    t0 = CLOCK[0]()
    correct = 0
    model.train()
    device = next(model.parameters()).device
    for xb, yb in loader:
        xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
        out = model(xb)
        loss = F.cross_entropy(out, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        correct += (out.argmax(1) == yb).sum()
    acc = int(correct) / n
    sync()
    return CLOCK[0]() - t0, acc


def ours_epoch(model, x, y, batch_size, sync):
    t0 = CLOCK[0]()
    h = model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    sync()
    return CLOCK[0]() - t0, h.history["accuracy"][-1]


_KERAS_SCRIPT = r"""
import json, os, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np, tensorflow as tf, keras
from keras import layers as L
kind, n, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[4])
clock = time.process_time if sys.argv[5] == "cpu" else time.perf_counter
if threads:
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
sys.path.insert(0, sys.argv[3])
from course.data import load_mnist_numpy
(x, y), _ = load_mnist_numpy()
x = (x[:n] / 255.0).astype("float32"); y = y[:n]
bs = {"mlp": 32, "cnn": 32, "cnn-large": 100}[kind]
if kind == "mlp":
    m = keras.Sequential([keras.Input((28, 28)), L.Flatten(), L.Dense(128, activation="relu"), L.Dropout(0.2),
                          L.Dense(10, activation="softmax")])
elif kind == "cnn":
    m = keras.Sequential([keras.Input((28, 28)), L.Reshape((28, 28, 1)), L.Conv2D(32, (3, 3), activation="relu"),
                          L.MaxPooling2D((2, 2)), L.Conv2D(64, (3, 3), activation="relu"), L.MaxPooling2D((2, 2)),
                          L.Flatten(), L.Dense(64, activation="relu"), L.Dense(10, activation="softmax")])
else:
    x = x.reshape(len(x), 784)
    m = keras.Sequential([keras.Input((784,)), L.Reshape((28, 28, 1)),
                          L.Conv2D(32, 5, activation="relu", padding="same"), L.MaxPooling2D((2, 2)),
                          L.Conv2D(64, 5, activation="relu", padding="same"), L.MaxPooling2D((2, 2)),
                          L.Flatten(), L.Dense(1024, activation="relu"), L.Dropout(0.5),
                          L.Dense(10, activation="softmax")])
m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
m.fit(x[:10 * bs], y[:10 * bs], batch_size=bs, epochs=1, verbose=0)          # trace the step function first
print("ready", flush=True)
for _ in sys.stdin:                                   # one timed epoch per line the parent sends
    t0 = clock(); m.fit(x, y, batch_size=bs, epochs=1, verbose=0)
    print(clock() - t0, flush=True)
"""


_BEFORE_SCRIPT = r"""
import os, sys, time
kind, n, root, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
clock = time.process_time if sys.argv[5] == "cpu" else time.perf_counter
sys.path.insert(0, root)                              # the earlier checkout's `course`, not this one's
import numpy as np, torch
if threads:
    torch.set_num_threads(threads)
import course, course.device
from course.data import load_mnist_numpy
from course.apps.train import build_model
assert os.path.dirname(os.path.dirname(os.path.abspath(course.__file__))) == os.path.abspath(root), course.__file__
(x, y), _ = load_mnist_numpy()
bs = {"mlp": 32, "cnn": 32, "cnn-large": 100, "speed": 512}[kind]
x = (x[:n] / 255.0).astype(np.float32)
x = torch.from_numpy(x.reshape(n, 784) if kind == "cnn-large" else x)
y = torch.from_numpy(y[:n].astype(np.int64))
course.device.seed(0)
m = build_model(kind)
m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
m.fit(x[:20 * bs], y[:20 * bs], batch_size=bs, epochs=1, verbose=0)
print("ready", flush=True)
for _ in sys.stdin:
    t0 = clock(); m.fit(x, y, batch_size=bs, epochs=1, verbose=0)
    print(clock() - t0, flush=True)
"""


class EpochWorker:
    """A contender in a subprocess, kept alive so that its epochs alternate with ours: `epoch()` asks
    for one and returns its seconds. `script` is real Keras (`_KERAS_SCRIPT`; TensorFlow reads
    TF_ENABLE_ONEDNN_OPTS at import, hence a process each) or our `fit` from the checkout at `root`
    (`_BEFORE_SCRIPT`)."""

    def __init__(self, script, kind, n, root, threads=None, onednn=None):
        env = dict(os.environ)
        if onednn is not None:
            env["TF_ENABLE_ONEDNN_OPTS"] = onednn
        self.log = tempfile.TemporaryFile(mode="w+")        # start-up chatter; shown on failure
        self.proc = subprocess.Popen([sys.executable, "-c", script, kind, str(n), root, str(threads or 0),
                                      "cpu" if CLOCK[0] is time.process_time else "wall"],
                                     env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                     text=True)
        if self._line() != "ready":
            raise RuntimeError(f"the worker for {root} did not start (for Keras: is TensorFlow importable?)")

    def _line(self):
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            self.log.seek(0)
            raise RuntimeError(f"the Keras worker exited with code {code}: {self.log.read()[-2000:]}")
        return line.strip()

    def epoch(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        return float(self._line())

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        self.log.close()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="mlp,cnn")
    p.add_argument("--batches", type=int, default=200, help="batches per timed epoch (of 32; of 100 for cnn-large)")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--device", default=None)
    p.add_argument("--threads", type=int, default=None,
                   help="torch.set_num_threads, and TensorFlow's intra/inter-op threads (default: each library's)")
    p.add_argument("--no-keras", "--no-tf", action="store_true", help="skip real Keras (TensorFlow)")
    p.add_argument("--before", metavar="DIR", help="also race our fit as the checkout in DIR has it")
    p.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                   help="cpu: CPU seconds of each process' threads "
                        "(with --threads 1, what a busy machine disturbs least)")
    args = p.parse_args(argv)
    CLOCK[0] = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.threads:
        torch.set_num_threads(args.threads)
    device = course.device.get(args.device)
    course.device.set_default(device)
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    (x_all, y_all), _ = load_mnist_numpy()
    print(f"device: {course.device.describe(device)}; {args.batches} batches per epoch; "
          f"{args.repeats} alternating repeats; torch {torch.__version__}")
    results = {}
    for kind in args.models.split(","):
        bs = BATCH[kind]
        n = min(args.batches * bs, len(x_all))
        batches = -(-n // bs)
        x_np = (x_all[:n] / 255.0).astype(np.float32)
        if kind in FLAT:
            x_np = x_np.reshape(n, 784)
        y_np = y_all[:n].astype(np.int64)
        x = torch.from_numpy(x_np).to(device)
        y = torch.from_numpy(y_np).to(device)
        course.device.seed(0)
        ours = ours_model(kind)
        ours.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        hand = torch_model(kind).to(device)
        hand_opt = torch.optim.Adam(hand.parameters(), lr=1e-3, eps=1e-7, foreach=True)
        ldr = torch_model(kind).to(device)
        ldr_opt = torch.optim.Adam(ldr.parameters(), lr=1e-3, eps=1e-7, foreach=True)
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x_np),
                                                                            torch.from_numpy(y_np)),
                                             batch_size=bs, shuffle=True)
        # warm-up: one short epoch each (allocator, oneDNN primitive caches)
        ours_epoch(ours, x[:20 * bs], y[:20 * bs], bs, sync)
        hand_epoch(hand, hand_opt, x[:20 * bs], y[:20 * bs], bs, sync)
        workers = {}
        if args.before:
            workers["before"] = EpochWorker(_BEFORE_SCRIPT, kind, n, os.path.abspath(args.before), args.threads)
        if not args.no_keras and kind in KERAS_KINDS and importlib.util.find_spec("tensorflow") is not None:
            for label, flag in (("keras", None), ("keras_onednn", "1")):
                try:
                    workers[label] = EpochWorker(_KERAS_SCRIPT, kind, n, ROOT, args.threads, onednn=flag)
                except RuntimeError as exc:
                    print(f"  {label}: {exc}", file=sys.stderr)
        times = {"ours": [], "hand": [], "loader": [], **{label: [] for label in workers}}
        for _ in range(args.repeats):
            times["ours"].append(ours_epoch(ours, x, y, bs, sync)[0])
            times["hand"].append(hand_epoch(hand, hand_opt, x, y, bs, sync)[0])
            times["loader"].append(loader_epoch(ldr, ldr_opt, loader, n, sync)[0])
            for label, worker in workers.items():
                times[label].append(worker.epoch())
        for worker in workers.values():
            worker.close()
        med = {k: statistics.median(v) for k, v in times.items()}
        results[kind] = med
        print(f"\n{kind}: median {args.clock} seconds per epoch of {batches} batches of {bs} (ratio to hand-written)")
        for k, v in med.items():
            print(f"  {k:<13} {v:8.3f} s  {v / batches * 1e3:7.2f} ms/step  x{v / med['hand']:.2f}")
        if "before" in med:
            print(f"  before -> ours: x{med['ours'] / med['before']:.2f} the time")
        ratio = med["ours"] / med["hand"]
        print(f"  goal fit/hand <= {TARGET}: x{ratio:.2f} ({'met' if ratio <= TARGET else 'NOT met'}) "
              f"on {device.type}")
        if kind in ("cnn", "cnn-large"):
            if "keras_onednn" in med:
                speedup = med["keras_onednn"] / med["ours"]
                print(f"  goal TF-oneDNN/fit >= {TF_SPEEDUP} (ours faster): x{speedup:.2f} "
                      f"({'met' if speedup >= TF_SPEEDUP else 'NOT met'})")
            else:
                print(f"  goal TF-oneDNN/fit >= {TF_SPEEDUP} (ours faster): not measured (real Keras did not run)")
    return results


if __name__ == "__main__":
    main()
