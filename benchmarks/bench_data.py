"""One pass over the 60,000 MNIST training images, batch 32: fast iterator vs DataLoader.

Both produce float32 batches in [0, 1] with labels, shuffled. Alternating repeats in one run;
the ratio of medians is the figure to report (absolute times on a shared machine are noise).

    python benchmarks/bench_data.py [--repeats 5]
"""
import argparse
import statistics
import time

from torch.utils.data import DataLoader, TensorDataset

import course.device
from course.data import batches, load_mnist


def one_pass(iterable):
    t = time.perf_counter()
    checksum = 0.0
    for xb, yb in iterable:
        checksum += float(xb[0, 0, 0])   # touch each batch so nothing is skipped
    return time.perf_counter() - t


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    device = course.device.get()
    (x, y), _ = load_mnist()
    fast = batches(x, y, args.batch_size, device=device, seed=0)
    xf = x.float().div_(255)                 # DataLoader gets pre-normalised floats (its best case)
    loader = DataLoader(TensorDataset(xf, y), batch_size=args.batch_size, shuffle=True)
    ours, theirs = [], []
    for _ in range(args.repeats):
        ours.append(one_pass(fast))
        theirs.append(one_pass(loader))
    mo, mt = statistics.median(ours), statistics.median(theirs)
    print(f"device: {course.device.describe(device)}")
    print(f"fast iterator : {mo * 1e3:8.1f} ms per epoch (median of {args.repeats})")
    print(f"DataLoader    : {mt * 1e3:8.1f} ms per epoch")
    print(f"ratio ours/DataLoader: {mo / mt:.3f}  ({mt / mo:.1f}x faster)")


if __name__ == "__main__":
    main()
