"""Distillation over several seeds: does the seed000 CNN teach a 32-unit MLP more than the labels do?

    python benchmarks/bench_distill_seeds.py [--seeds 5] [--labels 1000] [--epochs 60] [--teacher-epochs 2]

Trains one teacher as bench_compress.py does (seed000's CNN through course.tf.keras, Adam, batch
100, on the 60,000 training images), then for each seed s trains two 32-unit MLP students from the
same initial weights (course.device.seed(s + 1)) with the same batch order (seed s) on the first
--labels images: one on the labels alone (alpha = 0), one distilled (T = 4, alpha = 0.9); Adam,
batch 32. Prints the test accuracy of every pair (10,000 test images), the mean gain and its
spread. Seed 0 trains its students as bench_compress.py does, but the teacher is trained again here,
so its distilled student can differ from bench_compress.py's by a few tenths of a point. The teacher
is the same for all seeds: the spread is that of the students.

--fast (or COURSE_FAST=1) is a smoke run of a few seconds (500 teacher images, 200 labels, 2 seeds,
1 student epoch): its numbers mean nothing.
"""
import argparse
import statistics
import sys
import time

import torch

import course.config
import course.data
import course.device
import course.tf as tf
from course import compress as C
from course.apps.train import build_model
from course.tf.keras import layers


def student_mlp(hidden):
    return tf.keras.Sequential([layers.Flatten(input_shape=(28 * 28,)), layers.Dense(hidden, activation="relu"),
                                layers.Dense(10)])                       # logits


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--labels", type=int, default=1000, help="the students see the first LABELS training images")
    p.add_argument("--epochs", type=int, default=60, help="student epochs")
    p.add_argument("--teacher-epochs", type=int, default=2)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--fast", action="store_true", help="tiny run (also COURSE_FAST=1)")
    args = p.parse_args(argv)
    fast = args.fast or course.config.fast_mode()
    torch.set_num_threads(args.threads)
    course.device.set_default("cpu")
    course.device.seed(0)

    (x, y), (xt, yt) = course.data.load_mnist()
    x, xt = x.reshape(-1, 784).float() / 255, xt.reshape(-1, 784).float() / 255    # (N, 784)
    if fast:
        x, y, xt, yt = x[:500], y[:500], xt[:500], yt[:500]
        args.teacher_epochs, args.epochs, args.seeds, args.labels = 1, 1, 2, min(args.labels, 200)
    log = lambda *a: print(*a, file=sys.stderr, flush=True)
    started = time.perf_counter()

    teacher = build_model("cnn-large")   # seed000's CNN
    teacher.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    teacher.fit(x.numpy(), y.numpy(), batch_size=100, epochs=args.teacher_epochs, verbose=0)
    log(f"teacher trained in {time.perf_counter() - started:.0f} s")
    n = args.labels
    zt = C.logits_of(teacher, x[:n])                                      # (n, 10)
    print(f"teacher: {args.teacher_epochs} epoch(s) on {len(x):,} images, test accuracy "
          f"{100 * C.accuracy(teacher, xt, yt):.2f}%; students: {args.hidden} units, {n:,} labels, "
          f"{args.epochs} epochs, batch 32, T = 4, alpha = 0.9")
    print("| seed | alone % | distilled % | gain (points) |")
    print("|---|---|---|---|")
    gains = []
    for s in range(args.seeds):
        course.device.seed(s + 1)
        alone = student_mlp(args.hidden)
        C.distill(alone, x[:n], y[:n], alpha=0.0, epochs=args.epochs, batch_size=32, seed=s)
        course.device.seed(s + 1)
        distilled = student_mlp(args.hidden)
        C.distill(distilled, x[:n], y[:n], teacher_logits=zt, epochs=args.epochs, batch_size=32,
                  temperature=4.0, alpha=0.9, seed=s)
        a, d = 100 * C.accuracy(alone, xt, yt), 100 * C.accuracy(distilled, xt, yt)
        gains.append(d - a)
        print(f"| {s} | {a:.2f} | {d:.2f} | {d - a:+.2f} |", flush=True)
    spread = statistics.stdev(gains) if len(gains) > 1 else float("nan")
    print(f"mean gain {statistics.mean(gains):+.2f} points, standard deviation {spread:.2f}, "
          f"{sum(g > 0 for g in gains)} of {len(gains)} seeds positive; total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
