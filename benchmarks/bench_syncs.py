"""How often does `model.fit` wait for the GPU? (target: 0 host-device synchronisations per step)

A synchronisation stalls the host until the device has finished everything queued; one per step
(a `.item()`, a `bool(tensor)`, a copy to the host) keeps a fast GPU idle while Python prepares the
next step. With torch's sync debug mode on, every synchronising call warns; this counts the warnings
of two fits that differ only in their number of steps, so the per-fit costs (the label check, one
metrics read per epoch, a permutation copied per epoch) cancel out:

    python benchmarks/bench_syncs.py [--models mlp,cnn,speed] [--steps 20]

Without CUDA it says so and exits 0.
"""
import argparse
import warnings

import numpy as np
import torch

import course.device
from course.apps.train import MODELS, build_model
from course.data import load_mnist_numpy


def count_syncs(model, x, y, batch_size):
    """Synchronising calls made by one `fit` epoch over (x, y)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
        finally:
            torch.cuda.set_sync_debug_mode("default")
    return sum("synchroniz" in str(w.message) for w in caught)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="mlp,cnn,speed")
    p.add_argument("--steps", type=int, default=20, help="steps of the longer fit (the shorter takes 2)")
    args = p.parse_args(argv)
    if not torch.cuda.is_available():
        print("syncs per step: not measured (no CUDA GPU; torch's sync debug mode watches CUDA only)")
        return {}
    device = course.device.get("cuda")
    course.device.set_default(device)
    (x_all, y_all), _ = load_mnist_numpy()
    x_all = (x_all / 255.0).astype(np.float32)
    if args.steps < 3:
        p.error("--steps must be at least 3")
    results = {}
    print(f"device: {course.device.describe(device)}; torch {torch.__version__}")
    for kind in args.models.split(","):
        bs = MODELS[kind][1]
        x = torch.from_numpy(x_all[:args.steps * bs]).to(device)
        y = torch.from_numpy(y_all[:args.steps * bs].astype(np.int64)).to(device)
        if kind == "cnn-large":
            x = x.reshape(len(x), 784)
        model = build_model(kind)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x[:2 * bs], y[:2 * bs], batch_size=bs, epochs=1, verbose=0)       # build, first-call work
        short = count_syncs(model, x[:2 * bs], y[:2 * bs], bs)
        long = count_syncs(model, x, y, bs)
        per_step = (long - short) / (args.steps - 2)
        results[kind] = per_step
        print(f"  {kind:<10} batch {bs:>4}: {short} syncs in a 2-step fit, {long} in a {args.steps}-step fit; "
              f"syncs per step {per_step:.2f}  goal <= 0: {'met' if per_step <= 0 else 'NOT met'}")
        if short == 0:        # every fit synchronises a few times (input checks, metrics read at the epoch's end)
            print("    (no synchronisation seen at all: the sync debug mode's warnings were not captured; "
                  "this count is not reliable)")
    return results


if __name__ == "__main__":
    main()
