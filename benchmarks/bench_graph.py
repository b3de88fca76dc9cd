"""Graph-engine speed against TensorFlow's own TF1 Session: seed003 and the Deep-MNIST CNN step.

Each contender runs in its own worker process (so TensorFlow's and torch's thread pools never
share a process) and the workers take turns: block after block, round-robin, so a busy machine
slows every contender alike. The figure for each is the median time per step over its blocks.

    seed003   the seed program's 5000 Adam steps (batch 8 of 128 points, 2-3-1 network)
              ours: course.tf.compat.v1 Session (compiled plan)  vs  tf.compat.v1 Session
    cnn       "Deep MNIST for experts": conv5x5x32-pool-conv5x5x64-pool-fc1024-dropout-fc10,
              Adam(1e-4), batch 50, one `sess.run(train_step)` per step
              vs TF with TF_ENABLE_ONEDNN_OPTS=0 and =1

    python benchmarks/bench_graph.py [--steps 5000] [--block 100] [--cnn-steps 3] [--cnn-repeats 15]
           [--only seed003|cnn] [--no-tf] [--no-keras] [--threads N]
           [--executor compiled|interpreter] [--omp-wait PASSIVE|ACTIVE|inherit] [--before DIR]

    keras fit the same Deep-MNIST network through course.keras `fit` (batch 50, Adam(1e-4)): the
              Keras engine's cost per step of 50 samples

`--before DIR` adds the contender "ours (before)": the same worker importing `course` from DIR (a
checkout of an earlier commit, e.g. `git worktree add ../before <rev>`), for a before/after table
from one run.

Goals (each printed as `goal ... <= target: xR (met|NOT met)`): seed003 ours <= 0.3x TF; cnn ours
<= 0.9x TF with oneDNN on, and <= 1.0x the Keras engine's fit per sample. `--threads 1` pins every
contender to one thread; the CPU-time ratio it prints is what a busy machine disturbs least.

Workers get OMP_WAIT_POLICY=PASSIVE unless told otherwise: torch's OpenMP threads then block between
parallel regions instead of spinning, which is what TensorFlow's Eigen thread pool does. On a busy
machine (more runnable processes than cores) spinning threads steal the cores the work needs, and a
CNN step becomes several times slower; `--omp-wait inherit` keeps the caller's environment.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("COURSE_BENCH_ROOT") or os.path.dirname(HERE)     # where the workers import course from


# -- the models, written once against a TF1-shaped module `tf` ------------------------------------------
def seed003(tf):
    w1 = tf.Variable(tf.random_normal([2, 3], stddev=1, seed=1))
    w2 = tf.Variable(tf.random_normal([3, 1], stddev=1, seed=1))
    x = tf.placeholder(tf.float32, shape=(None, 2), name="x-input")
    y_ = tf.placeholder(tf.float32, shape=(None, 1), name="y-input")
    y = tf.matmul(tf.matmul(x, w1), w2)
    cross_entropy = -tf.reduce_mean(y_ * tf.log(tf.clip_by_value(y, 1e-10, 1.0)))
    train_step = tf.train.AdamOptimizer(0.001).minimize(cross_entropy)
    rdm = np.random.RandomState(1)
    X = rdm.rand(128, 2)
    Y = [[int(x1 + x2 < 1)] for (x1, x2) in X]
    state = {"i": 0}

    def run(sess, n):
        i0 = state["i"]
        for i in range(i0, i0 + n):
            start = (i * 8) % 128
            end = min(start + 8, 128)
            sess.run(train_step, feed_dict={x: X[start:end], y_: Y[start:end]})
        state["i"] = i0 + n
    return run


def deep_mnist(tf):
    from course.data import load_mnist_numpy
    (xtr, ytr), _ = load_mnist_numpy()
    rng = np.random.RandomState(0)
    batches = []
    for _ in range(20):
        idx = rng.randint(0, len(xtr), 50)
        batches.append((xtr[idx].reshape(50, 784).astype(np.float32) / 255.0, np.eye(10)[ytr[idx]]))
    x = tf.placeholder(tf.float32, shape=[None, 784])
    y_ = tf.placeholder(tf.float32, shape=[None, 10])

    def weight(shape):
        return tf.Variable(tf.truncated_normal(shape, stddev=0.1))

    def bias(shape):
        return tf.Variable(tf.constant(0.1, shape=shape))

    def conv(a, w):
        return tf.nn.conv2d(a, w, strides=[1, 1, 1, 1], padding="SAME")

    def pool(a):
        return tf.nn.max_pool(a, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")

    h1 = pool(tf.nn.relu(conv(tf.reshape(x, [-1, 28, 28, 1]), weight([5, 5, 1, 32])) + bias([32])))
    h2 = pool(tf.nn.relu(conv(h1, weight([5, 5, 32, 64])) + bias([64])))
    fc1 = tf.nn.relu(tf.matmul(tf.reshape(h2, [-1, 7 * 7 * 64]), weight([7 * 7 * 64, 1024])) + bias([1024]))
    keep_prob = tf.placeholder(tf.float32)
    y_conv = tf.matmul(tf.nn.dropout(fc1, keep_prob), weight([1024, 10])) + bias([10])
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y_, logits=y_conv))
    train_step = tf.train.AdamOptimizer(1e-4).minimize(loss)
    state = {"i": 0}

    def run(sess, n):
        for _ in range(n):
            bx, by = batches[state["i"] % len(batches)]
            state["i"] += 1
            sess.run(train_step, feed_dict={x: bx, y_: by, keep_prob: 0.5})
    return run


def deep_mnist_keras(keras):
    """The same Deep-MNIST network and batches through the Keras engine's `fit` (one `fit` call per
    block, `n` batches of 50): what a step costs there, for the per-sample comparison."""
    from course.data import load_mnist_numpy
    (xtr, ytr), _ = load_mnist_numpy()
    rng = np.random.RandomState(0)
    idx = np.concatenate([rng.randint(0, len(xtr), 50) for _ in range(20)])
    xs, ys = xtr[idx].reshape(-1, 784).astype(np.float32) / 255.0, ytr[idx].astype(np.int64)
    L = keras.layers
    model = keras.Sequential([keras.Input((784,)), L.Reshape((28, 28, 1)),
                              L.Conv2D(32, 5, padding="same", activation="relu"), L.MaxPooling2D(2, padding="same"),
                              L.Conv2D(64, 5, padding="same", activation="relu"), L.MaxPooling2D(2, padding="same"),
                              L.Flatten(), L.Dense(1024, activation="relu"), L.Dropout(0.5), L.Dense(10)])
    model.compile(optimizer=keras.optimizers.Adam(1e-4),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    state = {"i": 0}

    def run(_sess, n):
        i0 = state["i"] % 20
        sel = np.arange(i0, i0 + n) % 20
        rows = (sel[:, None] * 50 + np.arange(50)).reshape(-1)
        state["i"] += n
        model.fit(xs[rows], ys[rows], batch_size=50, epochs=1, verbose=0, shuffle=False)
    return run


MODELS = {"seed003": seed003, "cnn": deep_mnist}
TARGETS = {"seed003": (("tf", 0.3),), "cnn": (("tf (oneDNN on)", 0.9), ("keras fit", 1.0))}


def worker(kind, model, executor, threads=0):
    """Build `model` with `kind` ('ours', 'tf' or 'keras'), then answer 'run N' lines with elapsed seconds."""
    if kind == "keras":                                  # the course's Keras engine (model 'cnn' only)
        sys.path.insert(0, ROOT)
        import torch
        if threads:
            torch.set_num_threads(threads)
        import course.keras as keras
        run, sess = deep_mnist_keras(keras), None
        run(sess, 3)                                     # build and trace before the first timed block
    elif kind == "tf":
        import tensorflow.compat.v1 as tf
        tf.disable_eager_execution()
        sess_kwargs = {"config": tf.ConfigProto(intra_op_parallelism_threads=threads,
                                                inter_op_parallelism_threads=threads)} if threads else {}
    else:
        sys.path.insert(0, ROOT)
        import torch
        if threads:
            torch.set_num_threads(threads)
        import course.tf.compat.v1 as tf
        sess_kwargs = {"executor": executor}
    if kind != "keras":
        run = MODELS[model](tf)
        sess = tf.Session(**sess_kwargs)
        sess.run(tf.global_variables_initializer())
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        n = int(cmd[1])
        t0, c0 = time.perf_counter(), time.process_time()
        run(sess, n)
        print(json.dumps({"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0}), flush=True)


class Worker:
    def __init__(self, label, kind, model, executor, env=None, omp_wait="PASSIVE", threads=0):
        self.label = label
        e = dict(os.environ, PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL="2", **(env or {}))
        if omp_wait != "inherit":
            e["OMP_WAIT_POLICY"] = omp_wait
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", kind, "--model", model,
                                      "--executor", executor, "--threads", str(threads)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=e, cwd=ROOT)
        self._read()

    def _read(self):
        for line in self.proc.stdout:
            line = line.strip()
            if line.startswith("{"):
                return json.loads(line)
        raise RuntimeError(f"worker {self.label} exited (code {self.proc.wait()})")

    def run(self, n):
        """(wall seconds, CPU seconds of all the worker's threads) for `n` steps."""
        self.proc.stdin.write(f"run {n}\n")
        self.proc.stdin.flush()
        out = self._read()
        return out["seconds"], out["cpu"]

    def close(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
        except OSError:
            pass
        self.proc.wait(timeout=60)


def race(model, contenders, block, blocks, warmup, omp_wait="PASSIVE", threads=0):
    """Round-robin `blocks` blocks of `block` steps per contender. Returns, per label, the list of
    (wall, CPU) microseconds per step of each block."""
    workers = [Worker(label, kind, model, ex, env, omp_wait, threads) for label, kind, ex, env in contenders]
    times = {w.label: [] for w in workers}
    try:
        for w in workers:
            w.run(warmup)
        for _ in range(blocks):
            for w in workers:
                wall, cpu = w.run(block)
                times[w.label].append((wall / block * 1e6, cpu / block * 1e6))
    finally:
        for w in workers:
            w.close()
    return times


def report(title, model, times):
    """Median wall time per step (and the best block, closest to an idle machine's figure), the
    median CPU time per step (all the process' threads; with --threads 1 the figure a busy machine
    disturbs least), and each goal's ratio with its target."""
    print(f"\n{title}")
    wall = {k: statistics.median(w for w, _ in v) for k, v in times.items()}
    best = {k: min(w for w, _ in v) for k, v in times.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in times.items()}
    for label in times:
        print(f"  {label:<18} wall median {wall[label]:10.1f} us/step   best block {best[label]:10.1f}   "
              f"CPU median {cpu[label]:10.1f}")
    for ref, target in TARGETS[model]:
        if ref not in times:
            print(f"  goal {model} ours / {ref} <= {target}: not measured")
            continue
        r = wall["ours"] / wall[ref]
        print(f"  goal {model} ours / {ref} <= {target}: x{r:.2f} ({'met' if r <= target else 'NOT met'}); "
              f"best block x{best['ours'] / best[ref]:.2f}, CPU x{cpu['ours'] / cpu[ref]:.2f}")
        if "ours (before)" in times:
            print(f"       before: ours (before) / {ref}: x{wall['ours (before)'] / wall[ref]:.2f}; "
                  f"best block x{best['ours (before)'] / best[ref]:.2f}, CPU x{cpu['ours (before)'] / cpu[ref]:.2f}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--worker", choices=["ours", "tf", "keras"])
    p.add_argument("--model", default="seed003", choices=sorted(MODELS))
    p.add_argument("--executor", default="compiled", choices=["compiled", "interpreter"])
    p.add_argument("--steps", type=int, default=5000, help="seed003 steps per contender (in blocks)")
    p.add_argument("--block", type=int, default=100, help="seed003 steps per block (small blocks interleave finely)")
    p.add_argument("--cnn-steps", type=int, default=3, help="CNN steps per block")
    p.add_argument("--cnn-repeats", type=int, default=15, help="CNN blocks per contender")
    p.add_argument("--only", choices=sorted(MODELS))
    p.add_argument("--no-tf", action="store_true")
    p.add_argument("--no-keras", action="store_true", help="leave out the course.keras fit contender (cnn)")
    p.add_argument("--omp-wait", default="PASSIVE", choices=["PASSIVE", "ACTIVE", "inherit"])
    p.add_argument("--threads", type=int, default=0,
                   help="threads for every contender (torch.set_num_threads; TF intra/inter-op); 0: each library's own")
    p.add_argument("--before", metavar="DIR", help="also race the course package of this checkout, as 'ours (before)'")
    args = p.parse_args()
    if args.worker:
        return worker(args.worker, args.model, args.executor, args.threads)
    try:
        import importlib.util
        have_tf = importlib.util.find_spec("tensorflow") is not None and not args.no_tf
    except ValueError:
        have_tf = False
    import torch
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs; "
          f"TensorFlow {'present' if have_tf else 'absent'}; executor {args.executor}; OMP_WAIT_POLICY "
          f"{args.omp_wait if args.omp_wait != 'inherit' else os.environ.get('OMP_WAIT_POLICY', '(unset)')}; "
          f"load average {os.getloadavg()[0]:.1f}")
    before = [("ours (before)", "ours", args.executor, {"COURSE_BENCH_ROOT": os.path.abspath(args.before)})] \
        if args.before else []
    if args.only in (None, "seed003"):
        contenders = [("ours", "ours", args.executor, None)] + before
        if have_tf:
            contenders.append(("tf", "tf", args.executor, None))
        times = race("seed003", contenders, args.block, max(1, args.steps // args.block), warmup=200,
                     omp_wait=args.omp_wait, threads=args.threads)
        report(f"seed003: {args.steps} Adam steps each, blocks of {args.block}", "seed003", times)
    if args.only in (None, "cnn"):
        contenders = [("ours", "ours", args.executor, None)] + before
        if not args.no_keras:
            contenders.append(("keras fit", "keras", args.executor, None))
        if have_tf:
            contenders += [("tf (oneDNN off)", "tf", args.executor, {"TF_ENABLE_ONEDNN_OPTS": "0"}),
                           ("tf (oneDNN on)", "tf", args.executor, {"TF_ENABLE_ONEDNN_OPTS": "1"})]
        times = race("cnn", contenders, args.cnn_steps, args.cnn_repeats, warmup=3, omp_wait=args.omp_wait,
                     threads=args.threads)
        report(f"Deep-MNIST CNN: batch 50, Adam, {args.cnn_repeats} blocks of {args.cnn_steps} steps "
               "(keras fit: the same model and batches through course.keras fit, per step of 50 samples)", "cnn", times)


if __name__ == "__main__":
    main()
