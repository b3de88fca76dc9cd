"""Checks for lesson 04, back propagation: backward passes written by hand.

Every expected gradient comes from torch autograd (``torch.autograd.grad``) on the same forward
computation, in float64, never from the course's own backward functions.
"""
import torch

from course.exercises import seeding
from course.exercises.expect import CheckFailure, as_tensor, expect_close
from course.exercises.forbidden import SCRATCH
from course.exercises.registry import exercise

__all__ = []


def _gen(seed):
    return seeding.torch_generator(seed)


def _grads(f, *inputs):
    """Autograd gradients of the scalar f(*inputs) w.r.t. every input (float64 leaves)."""
    leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
    out = f(*leaves)
    return [g.detach() for g in torch.autograd.grad(out, leaves)]


def _tuple_of(got, count, what):
    if not isinstance(got, (tuple, list)) or len(got) != count:
        kind = type(got).__name__ + (f" of length {len(got)}" if isinstance(got, (tuple, list)) else "")
        raise CheckFailure(f"{what}: expected a tuple of {count} tensors, got {kind}.")
    return got


@exercise("4.1", name="sigmoid_backward", points=2, forbid=SCRATCH)
def _check_sigmoid_backward(sigmoid_backward):
    """dx = dout * y * (1 - y), where cache = y = sigmoid(x)."""
    g = _gen(41)
    cases = [("x (4, 3)", torch.randn(4, 3, generator=g, dtype=torch.float64)),
             ("saturated x = [-30, -5, 0, 5, 30]", torch.tensor([[-30.0, -5.0, 0.0, 5.0, 30.0]], dtype=torch.float64)),
             ("x (2, 3, 4)", torch.randn(2, 3, 4, generator=g, dtype=torch.float64) * 3)]
    for label, x in cases:
        dout = torch.randn(x.shape, generator=g, dtype=torch.float64)
        (expected,) = _grads(lambda x_: (torch.sigmoid(x_) * dout).sum(), x)
        y = torch.sigmoid(x)
        got = sigmoid_backward(dout.clone(), y.clone())
        t = as_tensor(got)
        if t is not None and tuple(t.shape) == tuple(x.shape) and label.startswith("x (4") and torch.allclose(
                t.double(), dout * torch.sigmoid(y) * (1 - torch.sigmoid(y)), atol=1e-8):
            raise CheckFailure(f"sigmoid_backward on {label}: the cache already holds y = sigmoid(x); "
                               f"use dout * y * (1 - y), not sigmoid(y).")
        expect_close(got, expected, what=f"sigmoid_backward(dout, cache) on {label}",
                     inputs={"dout": dout, "cache (= sigmoid(x))": y}, kind="torch", rtol=1e-6, atol=1e-9)


@exercise("4.2", name="relu_backward", points=2, forbid=SCRATCH)
def _check_relu_backward(relu_backward):
    """dx = dout * 1[x > 0], cache = x; the sub-gradient at x == 0 is 0 (as TF and torch use)."""
    g = _gen(42)
    cases = [("x (3, 4)", torch.randn(3, 4, generator=g, dtype=torch.float64)),
             ("x with exact zeros [-2, -0.5, 0, 0, 0.5, 2]",
              torch.tensor([[-2.0, -0.5, 0.0, 0.0, 0.5, 2.0]], dtype=torch.float64)),
             ("x (2, 2, 5)", torch.randn(2, 2, 5, generator=g, dtype=torch.float64))]
    for label, x in cases:
        dout = torch.randn(x.shape, generator=g, dtype=torch.float64)
        (expected,) = _grads(lambda x_: (torch.relu(x_) * dout).sum(), x)
        got = relu_backward(dout.clone(), x.clone())
        t = as_tensor(got)
        if t is not None and tuple(t.shape) == tuple(x.shape) and "zeros" in label \
                and torch.allclose(t.double(), dout * (x >= 0), atol=1e-12):
            raise CheckFailure(f"relu_backward on {label}: at x == 0 you passed the gradient through; "
                               f"TensorFlow and torch use the sub-gradient 0 there (mask x > 0, not x >= 0).")
        if t is not None and tuple(t.shape) == tuple(x.shape) and torch.allclose(t.double(), (x > 0).double()) \
                and not torch.allclose(t.double(), expected):
            raise CheckFailure(f"relu_backward on {label}: you returned the mask 1[x > 0] alone; "
                               f"multiply it by dout (chain rule: dL/dx = dL/dy * dy/dx).")
        expect_close(got, expected, what=f"relu_backward(dout, cache) on {label}",
                     inputs={"dout": dout, "cache (= x)": x}, kind="torch", rtol=1e-7, atol=1e-12)


@exercise("4.3", name="dense_backward", points=3, forbid=SCRATCH)
def _check_dense_backward(dense_backward):
    """(dx, dw, db) for out = x @ w + b with w (in, out) and cache = (x, w)."""
    g = _gen(43)
    for n, d, m in ((4, 3, 2), (1, 5, 3), (7, 6, 6)):
        x = torch.randn(n, d, generator=g, dtype=torch.float64)  # (N, D)
        w = torch.randn(d, m, generator=g, dtype=torch.float64)  # (D, M)
        b = torch.randn(m, generator=g, dtype=torch.float64)  # (M,)
        dout = torch.randn(n, m, generator=g, dtype=torch.float64)  # (N, M)
        ex, ew, eb = _grads(lambda x_, w_, b_: ((x_ @ w_ + b_) * dout).sum(), x, w, b)
        got = _tuple_of(dense_backward(dout.clone(), (x.clone(), w.clone())), 3,
                        f"dense_backward(dout, (x, w)) with x {tuple(x.shape)}, w {tuple(w.shape)}")
        inputs = {"dout": dout, "x": x, "w": w}
        for name, value, expected in zip(("dx", "dw", "db"), got, (ex, ew, eb)):
            t = as_tensor(value)
            where = f"{name} from dense_backward with x {tuple(x.shape)}, w {tuple(w.shape)}"
            if name == "db" and t is not None and tuple(t.shape) == (m,) and n > 1 \
                    and torch.allclose(t.double(), dout.mean(dim=0)):
                raise CheckFailure(f"{where}: you averaged dout over the batch; b is added to every row, "
                                   f"so its gradient is the SUM over the batch (dout.sum(dim=0)).")
            if name == "db" and t is not None and tuple(t.shape) == (n, m) != (m,):
                raise CheckFailure(f"{where}: shape {tuple(t.shape)}; db must have b's shape ({m},) -- "
                                   f"sum dout over the batch axis.")
            if name == "dw" and t is not None and tuple(t.shape) == (m, d) != (d, m):
                raise CheckFailure(f"{where}: shape {(m, d)} is the transpose of w's (in, out) = {(d, m)}; "
                                   f"dw = x.T @ dout (a gradient always has its variable's shape).")
            expect_close(value, expected, what=where, inputs=inputs, kind="torch", rtol=1e-6, atol=1e-9)


@exercise("4.4", name="softmax_cross_entropy", points=3, forbid=SCRATCH)
def _check_softmax_cross_entropy(softmax_cross_entropy):
    """(loss, dlogits) with loss = mean cross-entropy of softmax(logits) and integer labels."""
    g = _gen(44)
    cases = [
        ("logits (5, 4)", torch.randn(5, 4, generator=g, dtype=torch.float64), torch.tensor([0, 3, 1, 1, 2])),
        ("one sample (1, 3)", torch.tensor([[2.0, -1.0, 0.5]], dtype=torch.float64), torch.tensor([2])),
        ("large logits 1e3 (2, 3)", torch.tensor([[1000.0, 0.0, -1000.0], [-1000.0, 999.0, 1000.0]],
                                                 dtype=torch.float64), torch.tensor([0, 1])),
        ("logits (8, 10)", torch.randn(8, 10, generator=g, dtype=torch.float64) * 4,
         torch.randint(0, 10, (8,), generator=g)),
    ]
    for label, z, y in cases:
        n = z.shape[0]
        leaf = z.clone().requires_grad_(True)
        ref = torch.nn.functional.cross_entropy(leaf, y)  # mean over the batch
        (edz,) = torch.autograd.grad(ref, leaf)
        got = _tuple_of(softmax_cross_entropy(z.clone(), y.clone()), 2,
                        f"softmax_cross_entropy(logits, labels) on {label}")
        loss, dz = got
        inputs = {"logits": z, "labels": y}
        t = as_tensor(loss)
        if t is not None and t.numel() == 1 and not bool(torch.isfinite(t).all()):
            raise CheckFailure(f"loss from softmax_cross_entropy on {label}: got {t.item()} -- log(softmax) "
                               f"overflowed. Subtract each row's maximum first (log-sum-exp trick).")
        if t is not None and t.numel() == 1 and n > 1 and torch.allclose(t.double().reshape(()), ref.detach() * n):
            raise CheckFailure(f"loss from softmax_cross_entropy on {label}: you summed over the batch; "
                               f"return the mean (divide by N = {n}), as Keras and torch do by default.")
        expect_close(t.reshape(()) if t is not None and t.numel() == 1 else loss, ref.detach(),
                     what=f"loss from softmax_cross_entropy on {label}", inputs=inputs, rtol=1e-6, atol=1e-8,
                     check_dtype=False)
        d = as_tensor(dz)
        if d is not None and tuple(d.shape) == tuple(z.shape) and n > 1 and torch.allclose(d.double(), edz * n):
            raise CheckFailure(f"dlogits from softmax_cross_entropy on {label}: you forgot the 1/N; the loss "
                               f"is a mean over N = {n} samples, so dL/dz = (p - onehot(y)) / N.")
        expect_close(dz, edz, what=f"dlogits from softmax_cross_entropy on {label}", inputs=inputs,
                     kind="torch", rtol=1e-6, atol=1e-9)
