"""The floor under the Deep-MNIST graph step: its six large kernels, ours against TensorFlow's.

The step of `bench_graph.py --only cnn` spends most of its time in six kernels: the second
convolution forward, its two gradients (Conv2DBackpropInput, Conv2DBackpropFilter) and the three
products of the 3136x1024 layer (forward, dx, dW). This runs each as the graph engine does
(`course.layers.conv2d`, `conv_ops._conv_backward`, `course.layers.matmul`) and as TensorFlow does
(eager ops with oneDNN on, TF_ENABLE_ONEDNN_OPTS=1), alternating, on one thread each, and prints the
median CPU milliseconds of each and their sums: what no change outside these kernels can go below.
The products also show torch.mm's time (the BLAS), which `layers.matmul` replaces with oneDNN's
matmul for large float32 products.

    python benchmarks/bench_graph_kernels.py [--repeats 25] [--no-tf]
"""
import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np   # noqa: E402
import torch         # noqa: E402

from course import layers                      # noqa: E402
from course.graph.conv_ops import _conv_backward   # noqa: E402


def cases(tf):
    rng = np.random.RandomState(0)
    arrays = {"x": rng.rand(50, 14, 14, 32), "w": rng.rand(5, 5, 32, 64), "g": rng.rand(50, 14, 14, 64),
              "a": rng.rand(50, 3136), "W": rng.rand(3136, 1024), "ga": rng.rand(50, 1024)}
    T = {k: torch.from_numpy(v.astype(np.float32)) for k, v in arrays.items()}
    s1 = (1, 1)
    ours = {
        "conv2 forward": lambda: layers.conv2d(T["x"], T["w"], None, s1, "SAME"),
        "conv2 grad input": lambda: _conv_backward(T["x"], T["w"], T["g"], s1, s1, "SAME", [True, False, False]),
        "conv2 grad filter": lambda: _conv_backward(T["x"], T["w"], T["g"], s1, s1, "SAME", [False, True, False]),
        "fc1 forward": lambda: layers.matmul(T["a"], T["W"]),
        "fc1 grad input": lambda: layers.matmul(T["ga"], T["W"], transpose_b=True),
        "fc1 grad weights": lambda: torch.mm(T["a"].t(), T["ga"]),      # MatMul(transpose_a) runs torch.mm
    }
    blas = {
        "fc1 forward": lambda: torch.mm(T["a"], T["W"]),
        "fc1 grad input": lambda: torch.mm(T["ga"], T["W"].t()),
    }
    if tf is None:
        return ours, {}, blas
    F = {k: tf.constant(v.astype(np.float32)) for k, v in arrays.items()}
    st = [1, 1, 1, 1]
    theirs = {
        "conv2 forward": lambda: tf.nn.conv2d(F["x"], F["w"], 1, "SAME"),
        "conv2 grad input": lambda: tf.raw_ops.Conv2DBackpropInput(
            input_sizes=[50, 14, 14, 32], filter=F["w"], out_backprop=F["g"], strides=st, padding="SAME"),
        "conv2 grad filter": lambda: tf.raw_ops.Conv2DBackpropFilter(
            input=F["x"], filter_sizes=[5, 5, 32, 64], out_backprop=F["g"], strides=st, padding="SAME"),
        "fc1 forward": lambda: tf.matmul(F["a"], F["W"]),
        "fc1 grad input": lambda: tf.matmul(F["ga"], F["W"], transpose_b=True),
        "fc1 grad weights": lambda: tf.matmul(F["a"], F["ga"], transpose_a=True),
    }
    return ours, theirs, blas


def cpu_ms(fn):
    t = time.process_time()
    out = fn()
    if hasattr(out, "numpy"):
        out.numpy()                         # TF eager: wait for the value
    return (time.process_time() - t) * 1e3


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=25)
    p.add_argument("--no-tf", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(1)
    tf = None
    if not args.no_tf:
        try:
            import tensorflow as tf
            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except ImportError:
            tf = None
    ours, theirs, blas = cases(tf)
    print(f"one thread each; median CPU ms of {args.repeats} alternating calls; TensorFlow "
          f"{'eager, oneDNN ' + os.environ['TF_ENABLE_ONEDNN_OPTS'] if tf else 'absent'}")
    sums = [0.0, 0.0]
    for name, fn in ours.items():
        others = [f for f in (theirs.get(name), blas.get(name)) if f]
        for _ in range(2):                  # warm-up: oneDNN primitive caches
            for f in [fn] + others:
                cpu_ms(f)
        times = {fn: [], **{f: [] for f in others}}
        for _ in range(args.repeats):
            for f in times:
                times[f].append(cpu_ms(f))
        ma = statistics.median(times[fn])
        sums[0] += ma
        line = f"  {name:<18} ours {ma:7.2f} ms"
        if name in theirs:
            mb = statistics.median(times[theirs[name]])
            sums[1] += mb
            line += f"   tf {mb:7.2f} ms   x{ma / mb:.2f}"
        if name in blas:
            line += f"   (torch.mm {statistics.median(times[blas[name]]):.2f} ms)"
        print(line)
    line = f"  six kernels        ours {sums[0]:7.2f} ms"
    print(line + (f"   tf {sums[1]:7.2f} ms   x{sums[0] / sums[1]:.2f}" if theirs else ""))


if __name__ == "__main__":
    main()
