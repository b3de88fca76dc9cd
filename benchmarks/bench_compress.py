"""Export and compression of the seed000 CNN on MNIST: size, CPU latency and accuracy, one table.

    python benchmarks/bench_compress.py [--epochs 2] [--student-epochs 5] [--threads 1] [--out FILE.md]

Trains seed000's CNN (through course.tf.keras, Adam, batch 100) on the 60,000 training images,
then measures on the 10,000 test images: the model itself, its PyTorch twin, the torch.export
program reloaded from disk, magnitude pruning at 50/80/90% (and 90% fine-tuned one epoch with the
masks held), int8 weights from scratch, PyTorch's dynamic int8 quantisation, pruning + int8, and a
32-unit MLP student trained alone and distilled from the CNN (T = 4, alpha = 0.9), on all the
labels (5 epochs) and on the first 1,000 only (60 epochs), Adam, batch 32.
Latency: the best of repeated forward passes in inference mode on the CPU with --threads threads;
absolute times on a shared machine are noisy, the ratios within one run are the figures to read.
`--fast` (or COURSE_FAST=1) shrinks everything to check that the script runs.
"""
import argparse
import copy
import os
import platform
import sys
import tempfile
import time

import torch

import course.config
import course.data
import course.device
import course.export
import course.tf as tf
from course import compress as C
from course.apps.train import build_model
from course.tf.keras import layers


def student_mlp(hidden):
    return tf.keras.Sequential([layers.Flatten(input_shape=(28 * 28,)), layers.Dense(hidden, activation="relu"),
                                layers.Dense(10)])                       # logits


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=2, help="teacher (seed000 CNN) epochs")
    p.add_argument("--student-epochs", type=int, default=5)
    p.add_argument("--student-hidden", type=int, default=32)
    p.add_argument("--few-labels", type=int, default=1000, help="the scarce-label student run uses this many images")
    p.add_argument("--few-label-epochs", type=int, default=60)
    p.add_argument("--student-batch", type=int, default=32)
    p.add_argument("--threads", type=int, default=1, help="CPU threads for training and timing")
    p.add_argument("--repeats", type=int, default=30, help="timed forward passes per latency")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fast", action="store_true", help="tiny run (also COURSE_FAST=1)")
    p.add_argument("--out", default=None, help="also write the table (Markdown) here")
    args = p.parse_args(argv)
    fast = args.fast or course.config.fast_mode()
    torch.set_num_threads(args.threads)
    course.device.set_default("cpu")
    course.device.seed(args.seed)

    (x, y), (xt, yt) = course.data.load_mnist()
    x, xt = x.reshape(-1, 784).float() / 255, xt.reshape(-1, 784).float() / 255    # (N, 784)
    if fast:
        x, y, xt, yt = x[:500], y[:500], xt[:300], yt[:300]
        args.epochs, args.student_epochs, args.few_label_epochs, args.repeats = 1, 1, 2, 2
    log = lambda *a: print(*a, file=sys.stderr, flush=True)
    started = time.perf_counter()

    teacher = build_model("cnn-large")   # seed000's CNN
    teacher.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    t = time.perf_counter()
    teacher.fit(x.numpy(), y.numpy(), batch_size=100, epochs=args.epochs, verbose=0)
    log(f"teacher trained in {time.perf_counter() - t:.0f} s")

    rows = []
    def add(name, model, sparsity=None):
        rows.append(C.measure(name, model, xt, yt, repeats=args.repeats, threads=args.threads, sparsity=sparsity))
        log(f"measured {name}: accuracy {rows[-1].accuracy:.4f}")

    add("seed000 CNN (course.keras, float32)", teacher)
    twin = C.to_torch(teacher, xt[:8])
    add("PyTorch twin (NCHW, float32)", twin)
    with tempfile.TemporaryDirectory() as tmp:
        path = course.export.save(teacher, os.path.join(tmp, "seed000.pt2"), xt[:4])
        exported = course.export.load(path)
        pt2_mb = os.path.getsize(path) / 2 ** 20
        add("torch.export program, reloaded", exported)

    pruned = {}
    for amount in (0.5, 0.8, 0.9):
        m = copy.deepcopy(teacher)
        masks = C.magnitude_prune(m, amount)
        pruned[amount] = (m, masks)
        add(f"pruned {amount:.0%} (global magnitude)", m)
    m, masks = copy.deepcopy(pruned[0.9][0]), pruned[0.9][1]
    m.compile(optimizer=tf.keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy")
    m.fit(x.numpy(), y.numpy(), batch_size=100, epochs=1, verbose=0, callbacks=[C.KeepPruned(masks)])
    add("pruned 90% + 1 epoch fine-tuning", m)

    add("int8 weights, from scratch (twin)", C.quantize_weights_int8(twin))
    add("int8 dynamic, torch.ao (twin)", C.quantize_dynamic(twin), sparsity=0.0)
    add("pruned 80% + int8 dynamic", C.quantize_dynamic(C.to_torch(pruned[0.8][0], xt[:8])),
        sparsity=C.sparsity(pruned[0.8][0]))

    t = time.perf_counter()
    zt = C.logits_of(teacher, x)                                                   # (N, 10)
    few = min(args.few_labels, len(x))
    for n, epochs, what in ((len(x), args.student_epochs, f"{len(x):,} labels"),
                            (few, args.few_label_epochs, f"{few:,} labels")):
        course.device.seed(args.seed + 1)
        alone = student_mlp(args.student_hidden)
        C.distill(alone, x[:n], y[:n], alpha=0.0, epochs=epochs, batch_size=args.student_batch, seed=args.seed)
        add(f"MLP {args.student_hidden} units, {what}, alone", alone)
        course.device.seed(args.seed + 1)
        student = student_mlp(args.student_hidden)
        C.distill(student, x[:n], y[:n], teacher_logits=zt[:n], epochs=epochs, batch_size=args.student_batch,
                  temperature=4.0, alpha=0.9, seed=args.seed)
        add(f"MLP {args.student_hidden} units, {what}, distilled", student)
    log(f"students trained in {time.perf_counter() - t:.0f} s")

    head = (f"Command: python benchmarks/bench_compress.py {' '.join(argv if argv is not None else sys.argv[1:])}\n"
            f"torch {torch.__version__}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
            f"{args.threads} thread(s) for timing, load average {os.getloadavg()[0]:.1f}; teacher {args.epochs} "
            f"epoch(s) on {len(x):,} images, test on {len(xt):,}; torch.export file {pt2_mb:.2f} MB; "
            f"total {time.perf_counter() - started:.0f} s\n")
    text = head + "\n" + C.table(rows) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
