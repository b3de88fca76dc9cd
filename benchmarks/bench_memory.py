"""How much memory does `model.fit` add over a bare torch loop on the same data? (target: at most 100 MB)

Each contender runs in a fresh process and reports its peak resident set size (ru_maxrss), after
the same preparation: MNIST loaded as numpy, scaled to float32 in [0, 1] (60,000 x 784 x 4 bytes =
188 MB), and one epoch of seed002's CNN with Adam, batch 32 (or `--model`, `--batch-size`):

    bare   torch.from_numpy(x) (the array's memory, shared), a permutation, index slicing per
           batch, the same network as a torch nn.Sequential, torch.optim.Adam
    fit    course.keras `model.fit(x, y, batch_size=32, epochs=1, verbose=0)` on the numpy arrays

    python benchmarks/bench_memory.py [--model cnn] [--limit 60000] [--batch-size 32]

Prints both peaks and the difference against its target. Peaks are of the whole process, imports
included (what a learner's machine must hold), measured from the data's preparation on: the kernel's
high-water mark is reset there (Linux /proc/self/clear_refs), so each peak is what training reached.
"""
import argparse
import json
import os
import subprocess
import sys

TARGET_MB = 100

_CHILD = r"""
import json, sys, time
import numpy as np
import torch
kind, limit, bs, root, layout, contender = sys.argv[1:7]
limit, bs = int(limit), int(bs)
sys.path.insert(0, root)
torch.set_num_threads(1)


def status(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith(field + ":"))


from course.data import load_mnist_numpy
(x, y), _ = load_mnist_numpy()
x = x[:limit].astype(np.float32)           # no float64 temporary: it would set the peak before training
x /= 255.0
y = y[:limit].astype(np.int64)
if layout == "--flat":
    x = x.reshape(len(x), 784)
if contender == "bare":
    sys.path.insert(0, root + "/benchmarks")
    from bench_fit import torch_model
    import torch.nn.functional as F
else:
    from course.apps.train import build_model
torch.manual_seed(0)
with open("/proc/self/clear_refs", "w") as f:   # "5": reset the peak (VmHWM) to the current RSS
    f.write("5")
before = status("VmHWM")
t0 = time.perf_counter()
if contender == "bare":
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    model = torch_model(kind)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    perm = torch.randperm(len(xt))
    for i in range(0, len(xt), bs):
        idx = perm[i:i + bs]
        loss = F.cross_entropy(model(xt[idx]), yt[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
else:
    model = build_model(kind)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=bs, epochs=1, verbose=0)
print(json.dumps({"peak_mb": status("VmHWM"), "before_mb": before, "seconds": time.perf_counter() - t0}))
"""


def measure(contender, kind, limit, batch_size, root):
    env = dict(os.environ, COURSE_DEVICE="cpu", OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", _CHILD, kind, str(limit), str(batch_size), root,
                           "--flat" if kind == "cnn-large" else "--image", contender],
                          capture_output=True, text=True, env=env, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"the {contender} process failed with code {proc.returncode}: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="cnn", help="mlp, cnn, cnn-large or speed (default: cnn)")
    p.add_argument("--limit", type=int, default=60000, help="training images (default: all 60,000)")
    p.add_argument("--batch-size", type=int, default=32)
    args = p.parse_args(argv)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    res = {c: measure(c, args.model, args.limit, args.batch_size, root) for c in ("bare", "fit")}
    print(f"{args.model}, {args.limit:,} images, batch {args.batch_size}, CPU, one epoch in a fresh process each:")
    for c, r in res.items():
        print(f"  {c:<5} peak RSS {r['peak_mb']:7.1f} MB  (before training {r['before_mb']:7.1f} MB; "
              f"{r['seconds']:.1f} s)")
    extra = res["fit"]["peak_mb"] - res["bare"]["peak_mb"]
    print(f"  goal fit - bare <= {TARGET_MB} MB: {extra:+.1f} MB ({'met' if extra <= TARGET_MB else 'NOT met'})")
    return res


if __name__ == "__main__":
    main()
