"""Checks for lesson 03, forward propagation: a dense layer, a stable softmax, a two-layer forward pass.

References are torch's own layers (``nn.functional.linear``, ``torch.softmax``, ``nn.Sequential``
of ``nn.Linear``/``nn.ReLU``), never the course's code.
"""
import torch

from course.exercises import seeding
from course.exercises.expect import CheckFailure, as_tensor, expect_close
from course.exercises.forbidden import SCRATCH, Forbid
from course.exercises.registry import exercise

__all__ = []


def _gen(seed):
    return seeding.torch_generator(seed)


def _unchanged(before, after, what):
    if not torch.equal(before, after):
        raise CheckFailure(f"{what} modified its input in place; return a new tensor instead "
                           f"(avoid in-place methods such as add_ / exp_ on the arguments).")


@exercise("3.1", name="dense", points=2, forbid=SCRATCH)
def _check_dense(dense):
    """x (N, D) @ w (D, M) + b (M,) -> (N, M), Keras' kernel layout (in, out)."""
    cases = [(4, 3, 2), (1, 5, 7), (6, 784, 10)]
    g = _gen(31)
    for n, d, m in cases:
        x = torch.randn(n, d, generator=g)  # (N, D)
        w = torch.randn(d, m, generator=g)  # (D, M)  Keras layout
        b = torch.randn(m, generator=g)  # (M,)
        keep = (x.clone(), w.clone(), b.clone())
        got = dense(x, w, b)
        # nn.Linear's weight is (out, in), so the Keras kernel goes in transposed.
        expected = torch.nn.functional.linear(keep[0], keep[1].T, keep[2])  # (N, M)
        t = as_tensor(got) if got is not None else None
        if t is not None and tuple(t.shape) == (n, m) and n > 1 and torch.allclose(
                t.float(), expected - keep[2], atol=1e-4) and not torch.allclose(t.float(), expected, atol=1e-4):
            raise CheckFailure(f"dense(x, w, b) with x {tuple(x.shape)}: the bias b is missing (got x @ w).")
        expect_close(got, expected, what="dense(x, w, b)",
                     inputs={"x": keep[0], "w": keep[1], "b": keep[2]}, kind="torch", rtol=1e-4, atol=1e-4)
        for before, after, nm in zip(keep, (x, w, b), "xwb"):
            _unchanged(before, after, f"dense (argument {nm})")


def _softmax_cases():
    g = _gen(32)
    return [
        ("small logits (3, 4)", torch.randn(3, 4, generator=g)),
        ("one row (1, 10)", torch.randn(1, 10, generator=g) * 3),
        ("a 1-D vector (5,)", torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])),
        ("large logits [1000, 1001, 1002]", torch.tensor([[1000.0, 1001.0, 1002.0]])),
        ("very negative logits [-1000, -1001, -1002]", torch.tensor([[-1000.0, -1001.0, -1002.0]])),
        ("logits of 1e4 (2, 3)", torch.tensor([[1e4, 0.0, -1e4], [5e3, 5e3, 0.0]])),
        ("equal logits (2, 4)", torch.zeros(2, 4)),
    ]


_NO_SOFTMAX = Forbid(
    names=("torch.*softmax*", "torch.*Softmax*", "course.*softmax*", "scipy.special.softmax",
           "scipy.special.log_softmax"),
    methods=("softmax", "log_softmax"),
    why="Exercise 3.2 asks for the softmax itself (exp of the shifted logits over their sum): torch.softmax, "
        "tf.nn.softmax and the other softmax functions are not allowed here.")


@exercise("3.2", name="softmax", points=2, forbid=_NO_SOFTMAX + SCRATCH)
def _check_softmax(softmax):
    """softmax over the last axis, finite for large logits (subtract the row maximum)."""
    for label, z in _softmax_cases():
        keep = z.clone()
        got = softmax(z)
        expected = torch.softmax(keep, dim=-1)  # (..., C)
        t = as_tensor(got)
        if t is not None and t.is_floating_point() and tuple(t.shape) == tuple(expected.shape) \
                and not bool(torch.isfinite(t).all()):
            raise CheckFailure(f"softmax on {label}: got non-finite values {t.tolist()} -- e^z overflows "
                               f"(e^1000 = inf in float32, inf/inf = nan). Subtract the maximum of each row "
                               f"before exponentiating: softmax(z) = softmax(z - max(z)).")
        if t is not None and t.dim() == 2 and t.shape[0] > 1 and tuple(t.shape) == tuple(expected.shape) \
                and torch.allclose(t.float(), torch.softmax(keep, dim=0), atol=1e-5) \
                and not torch.allclose(t.float(), expected, atol=1e-5):
            raise CheckFailure(f"softmax on {label}: you normalised over the batch axis (columns sum to 1); "
                               f"normalise over the last axis (dim=-1), one distribution per row.")
        expect_close(got, expected, what=f"softmax(z) on {label}", inputs={"z": keep}, kind="torch",
                     rtol=1e-5, atol=1e-6)
        _unchanged(keep, z, "softmax")


@exercise("3.3", name="mlp_forward", points=3, forbid=SCRATCH)
def _check_mlp_forward(mlp_forward):
    """probabilities = softmax(relu(x w1 + b1) w2 + b2), Keras layouts."""
    g = _gen(33)
    for n, d, h, c in ((5, 784, 32, 10), (1, 4, 3, 2), (8, 6, 16, 3)):
        x = torch.rand(n, d, generator=g)  # (N, D)
        params = {"w1": torch.randn(d, h, generator=g) * 0.5, "b1": torch.randn(h, generator=g) * 0.1,
                  "w2": torch.randn(h, c, generator=g) * 0.5, "b2": torch.randn(c, generator=g) * 0.1}
        keep = {k: v.clone() for k, v in params.items()}
        x_keep = x.clone()
        net = torch.nn.Sequential(torch.nn.Linear(d, h), torch.nn.ReLU(), torch.nn.Linear(h, c),
                                  torch.nn.Softmax(dim=-1))
        with torch.no_grad():
            net[0].weight.copy_(keep["w1"].T)  # nn.Linear stores (out, in)
            net[0].bias.copy_(keep["b1"])
            net[2].weight.copy_(keep["w2"].T)
            net[2].bias.copy_(keep["b2"])
            expected = net(x_keep)  # (N, C)
            logits = net[:3](x_keep)  # (N, C)
        got = mlp_forward(x, params)
        t = as_tensor(got)
        if t is not None and tuple(t.shape) == tuple(expected.shape) and torch.allclose(t.float(), logits, atol=1e-4) \
                and not torch.allclose(t.float(), expected, atol=1e-4):
            raise CheckFailure(f"mlp_forward(x, params) with x {tuple(x.shape)}: you returned the logits; "
                               f"apply softmax to them to return probabilities (each row sums to 1).")
        expect_close(got, expected, what="mlp_forward(x, params)",
                     inputs={"x": x_keep, **keep}, kind="torch", rtol=1e-4, atol=1e-5)
        _unchanged(x_keep, x, "mlp_forward (argument x)")
        for k in keep:
            _unchanged(keep[k], params[k], f"mlp_forward (params[{k!r}])")
