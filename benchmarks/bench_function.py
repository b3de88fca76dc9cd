"""A training step under @tf.function against the same step run eagerly, on course.tf.

Two programs: seed000's CNN (Reshape, two Conv2D+MaxPooling2D, Dense 1024, Dropout, softmax Dense;
sparse cross-entropy on probabilities; Adam) at batch 100 on MNIST, and seed001's 10-5-1 network
(raw Variables, sigmoid, MSE, SGD) on its 100 random samples. For each, two copies start from the
same weights; the step alternates, eager then traced, with the same random seed before each (so
both draw the same Dropout masks). The figure is the median time per step (the first traced call,
which traces, is timed apart); the ratio is eager / traced (above 1: the traced step is faster).
After the steps the weights of the two copies must agree within --tol.

    python benchmarks/bench_function.py [--steps 20] [--programs seed000,seed001] [--tol 1e-5] [--threads N]
"""
import argparse
import statistics
import time

import numpy as np
import torch

import course.device
from course import tf
from course.apps.train import build_model


def sync():
    if course.device.get().type == "cuda":
        torch.cuda.synchronize()


def seed000(batch):
    def build():
        return build_model("cnn-large")           # seed000's CNN, as `course train` builds it

    def make_step(model):
        loss_object = tf.keras.losses.SparseCategoricalCrossentropy()
        optimizer = tf.keras.optimizers.Adam()

        def step(x, y):
            with tf.GradientTape() as tape:
                loss = loss_object(y, model(x, training=True))
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss
        return step

    (x, y), _ = tf.keras.datasets.mnist.load_data()
    x = (x[:batch * 4] / 255.0).reshape(-1, 28 * 28).astype("float32")
    y = y[:batch * 4].astype("int32")
    batches = [(tf.constant(x[i:i + batch]), tf.constant(y[i:i + batch])) for i in range(0, len(x), batch)]
    eager_model, traced_model = build(), build()
    eager_model(batches[0][0])
    traced_model(batches[0][0])
    traced_model.set_weights(eager_model.get_weights())
    return (make_step(eager_model), eager_model.trainable_variables,
            make_step(traced_model), traced_model.trainable_variables, batches)


def seed001(batch):
    rng = np.random.default_rng(1)
    x = tf.constant(rng.random((100, 10)).astype("float32"))
    y = tf.constant(rng.random((100, 1)).astype("float32"))
    init = [rng.normal(size=s).astype("float32") for s in ((10, 5), (5,), (5, 1), (1,))]

    def make():
        W1, b1, W2, b2 = (tf.Variable(v) for v in init)
        optimizer = tf.optimizers.SGD(learning_rate=0.01)

        def step(X, Y):
            with tf.GradientTape() as tape:
                y_pred = tf.nn.sigmoid(tf.matmul(tf.matmul(X, W1) + b1, W2) + b2)
                loss = tf.reduce_mean(tf.square(Y - y_pred))
            grads = tape.gradient(loss, [W1, b1, W2, b2])
            optimizer.apply_gradients(zip(grads, [W1, b1, W2, b2]))
            return loss
        return step, [W1, b1, W2, b2]

    eager_step, eager_vars = make()
    traced_step, traced_vars = make()
    return eager_step, eager_vars, traced_step, traced_vars, [(x, y)]


PROGRAMS = {"seed000": seed000, "seed001": seed001}


def timed(fn, *args):
    sync()
    t0 = time.perf_counter()
    fn(*args)
    sync()
    return time.perf_counter() - t0


def run(name, steps, batch, tol):
    eager_step, eager_vars, python_step, traced_vars, batches = PROGRAMS[name](batch)
    traced_step = tf.function(python_step)
    eager_t, traced_t = [], []
    first = None
    for i in range(steps):
        xb, yb = batches[i % len(batches)]
        torch.manual_seed(1000 + i)
        eager_t.append(timed(eager_step, xb, yb))
        torch.manual_seed(1000 + i)
        t = timed(traced_step, xb, yb)
        if first is None:
            first = t
        else:
            traced_t.append(t)
    eager_med, traced_med = statistics.median(eager_t[1:]), statistics.median(traced_t)
    diff = max(float(np.max(np.abs(a.numpy() - b.numpy()))) for a, b in zip(eager_vars, traced_vars))
    return {"program": name, "eager_ms": eager_med * 1e3, "traced_ms": traced_med * 1e3,
            "ratio": eager_med / traced_med, "trace_ms": first * 1e3, "max_weight_diff": diff,
            "traces": traced_step.experimental_get_tracing_count(), "ok": diff <= tol}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--programs", default="seed000,seed001")
    ap.add_argument("--tol", type=float, default=1e-5)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"device: {course.device.get()}  torch threads: {torch.get_num_threads()}  steps: {args.steps}")
    print(f"{'program':8s} {'eager ms':>9s} {'traced ms':>10s} {'ratio':>6s} {'1st call ms':>12s} {'traces':>6s} "
          f"{'max |Δw|':>9s}")
    failed = []
    for name in args.programs.split(","):
        r = run(name, args.steps, args.batch, args.tol)
        print(f"{r['program']:8s} {r['eager_ms']:9.2f} {r['traced_ms']:10.2f} {r['ratio']:6.2f} "
              f"{r['trace_ms']:12.1f} {r['traces']:6d} {r['max_weight_diff']:9.2e}")
        if not r["ok"]:
            failed.append(name)
    if failed:
        raise SystemExit(f"weights after {args.steps} steps differ by more than {args.tol} for: {', '.join(failed)}")


if __name__ == "__main__":
    main()
