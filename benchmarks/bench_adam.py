"""Per-step time of course.optim.Adam against torch.optim.Adam(foreach=True), or (fused=True).

The parameters are the seed CNN's (3,274,634 in 8 tensors). Both optimizers run in this one
process, alternating: each repeat times `--steps` steps of one, then of the other; the figure is
the median over repeats, and the ratio is ours / torch's.

    python benchmarks/bench_adam.py [--device cpu|cuda] [--repeats 21] [--steps 20] [--form keras] [--torch-fused]
"""
import argparse
import statistics
import time

import torch

import course.device
import course.optim

SHAPES = [(5, 5, 1, 32), (32,), (5, 5, 32, 64), (64,), (3136, 1024), (1024,), (1024, 10), (10,)]


def make_params(device, seed):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(s, generator=g).mul_(0.05).to(device).requires_grad_() for s in SHAPES]


def make_grads(params, seed):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(p.shape, generator=g).mul_(0.01).to(p.device) for p in params]


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default=None, help="default: course.device.get()")
    ap.add_argument("--repeats", type=int, default=21)
    ap.add_argument("--steps", type=int, default=20, help="steps per timed repeat")
    ap.add_argument("--form", default="torch", choices=course.optim.FORMS)
    ap.add_argument("--torch-fused", action="store_true",
                    help="compare with torch.optim.Adam(fused=True) instead of foreach=True")
    args = ap.parse_args(argv)
    device = course.device.get(args.device)

    ours_p, theirs_p = make_params(device, 0), make_params(device, 0)
    grads = make_grads(ours_p, 1)
    ours = getattr(course.optim.Adam, args.form)() if args.form != "tf1" else course.optim.Adam.tf1(1e-3)
    mode = "fused" if args.torch_fused else "foreach"
    theirs = torch.optim.Adam(theirs_p, lr=1e-3, **{mode: True})
    for p, g in zip(theirs_p, grads):
        p.grad = g

    def step_ours():
        ours.apply(ours_p, grads)

    def step_theirs():
        theirs.step()

    def timed(step):
        sync(device)
        t0 = time.perf_counter()
        for _ in range(args.steps):
            step()
        sync(device)
        return (time.perf_counter() - t0) / args.steps

    for _ in range(3):                       # warm-up: slots allocated, caches hot
        timed(step_ours), timed(step_theirs)
    t_ours, t_theirs = [], []
    for r in range(args.repeats):
        order = [(step_ours, t_ours), (step_theirs, t_theirs)]
        if r % 2:
            order.reverse()                  # alternate who goes first
        for step, out in order:
            out.append(timed(step))
    n = sum(p.numel() for p in ours_p)
    m_ours, m_theirs = statistics.median(t_ours), statistics.median(t_theirs)
    print(f"device: {course.device.describe(device)}; torch {torch.__version__}")
    print(f"parameters: {n:,} in {len(SHAPES)} tensors; {args.repeats} repeats x {args.steps} steps, "
          f"alternating; median per step")
    print(f"course.optim.Adam (form={args.form}):   {m_ours * 1e3:8.3f} ms/step")
    print(f"torch.optim.Adam({mode}=True): {m_theirs * 1e3:8.3f} ms/step")
    print(f"ratio ours/torch: {m_ours / m_theirs:.3f}")
    return m_ours / m_theirs


if __name__ == "__main__":
    main()
