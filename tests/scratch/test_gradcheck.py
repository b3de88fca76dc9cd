"""course.gradcheck: passes on correct gradients (every scratch pair, autograd, nn.Modules), fails
and names the tensor on planted bugs, warns about float32 and kinks, samples large tensors."""
import math
import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course import gradcheck as G
from course import scratch as S

D = torch.float64
FEW = settings(max_examples=20, deadline=None)


def rand(gen, *shape, scale=1.0, shift=0.0):
    return torch.randn(*shape, generator=gen, dtype=D) * scale + shift


@pytest.fixture(autouse=True)
def _quiet_kinks():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", G.GradcheckWarning)
        yield


# ---------------------------------------------------------------------------------------------
# Correct gradients pass
# ---------------------------------------------------------------------------------------------

@FEW
@given(n=st.integers(1, 5), d=st.integers(1, 6), m=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_dense_and_activation_pairs_pass(n, d, m, seed):
    g = torch.Generator().manual_seed(seed)
    assert G.check_scratch_pair(S.dense_forward, S.dense_backward, rand(g, n, d), rand(g, d, m), rand(g, m),
                                seed=seed).ok
    for name in ("relu", "sigmoid", "tanh", "softmax"):
        fwd, bwd = getattr(S, f"{name}_forward"), getattr(S, f"{name}_backward")
        report = G.check_scratch_pair(fwd, bwd, rand(g, n, d, scale=3.0), seed=seed)
        assert report.ok, report
    report = G.check_scratch_pair(S.flatten_forward, S.flatten_backward, rand(g, n, 2, d), seed=seed)
    assert report.ok, report


@FEW
@given(n=st.integers(1, 5), c=st.integers(2, 6), seed=st.integers(0, 2**16))
def test_scratch_losses_pass(n, c, seed):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, c, (n,), generator=g)
    for fn, target in [(S.softmax_cross_entropy, labels), (S.softmax_cross_entropy, torch.eye(c, dtype=D)[labels]),
                       (S.svm_loss, labels), (S.mse_loss, rand(g, n, c)),
                       (S.hinge_loss, torch.randint(0, 2, (n, c), generator=g).to(D))]:
        # Cross-entropy logits at scale 1: at scale 2 a logit gap near 8 (seed 35394) makes the loss ~3e-4,
        # computed as log(1 + 3e-4) with an absolute rounding error near 1e-16 -- far above the 8 ulps
        # of the loss's own size that the check's noise model allows, so a correct gradient looked
        # "suspicious". The check reads noise from the output's size, not from inner cancellations.
        scale = 1.0 if fn is S.softmax_cross_entropy else 2.0
        report = G.check_scratch_loss(fn, rand(g, n, c, scale=scale), target)
        assert report.ok, report


@FEW
@given(n=st.integers(1, 2), h=st.integers(2, 6), w=st.integers(2, 6), c=st.integers(1, 2), f=st.integers(1, 2),
       k=st.integers(1, 3), s=st.integers(1, 2), padding=st.sampled_from(["SAME", "VALID"]),
       seed=st.integers(0, 2**16))
def test_conv_and_pool_pairs_pass(n, h, w, c, f, k, s, padding, seed):
    if padding == "VALID" and k > min(h, w):
        return
    g = torch.Generator().manual_seed(seed)
    report = G.check_scratch_pair(S.conv2d_forward, S.conv2d_backward, rand(g, n, h, w, c), rand(g, k, k, c, f),
                                  rand(g, f), strides=s, padding=padding, seed=seed)
    assert report.ok and [t.name for t in report.checks] == ["x", "w", "b"], report
    report = G.check_scratch_pair(S.max_pool2d_forward, S.max_pool2d_backward, rand(g, n, h, w, c),
                                  pool_size=k, strides=s, padding=padding, seed=seed)
    assert report.ok, report


@FEW
@given(n=st.integers(2, 6), d=st.integers(1, 4), seed=st.integers(0, 2**16), image=st.booleans())
def test_batchnorm_and_dropout_pairs_pass(n, d, seed, image):
    g = torch.Generator().manual_seed(seed)
    shape = (n, 2, 3, d) if image else (n, d)
    report = G.check_scratch_pair(S.batchnorm_forward, S.batchnorm_backward, rand(g, *shape, scale=2.0, shift=1.0),
                                  rand(g, d), rand(g, d), seed=seed)
    assert report.ok and report.failed == [], report
    report = G.check_scratch_pair(S.batchnorm_forward, S.batchnorm_backward, rand(g, *shape), rand(g, d), rand(g, d),
                                  running_mean=torch.zeros(d, dtype=D), running_var=torch.ones(d, dtype=D),
                                  training=False)
    assert report.ok, report
    # dropout draws a fresh mask on every call: gradcheck reseeds torch for each evaluation
    report = G.check_scratch_pair(S.dropout_forward, S.dropout_backward, rand(g, *shape), 0.5, seed=seed)
    assert report.ok and [t.name for t in report.checks] == ["x"], report


def test_autograd_functions_and_modules_pass():
    x, w = torch.randn(3, 4, dtype=D), torch.randn(4, 2, dtype=D)
    report = G.check_gradients(lambda x, w: torch.sin(x @ w).pow(2).sum(), x, w)
    assert report.ok and [c.name for c in report.checks] == ["x", "w"]
    model = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.Tanh(), torch.nn.Flatten(), torch.nn.Linear(12, 4))
    report = G.check_module_gradients(model, torch.randn(2, 2, 4, 4, dtype=D), check_inputs=True)
    assert report.ok, report
    assert [c.name for c in report.checks] == ["0.weight", "0.bias", "3.weight", "3.bias", "input0"]
    report = G.check_module_gradients(model, torch.randn(2, 2, 4, 4, dtype=D),
                                      loss_fn=lambda out: torch.nn.functional.cross_entropy(out, torch.tensor([1, 3])))
    assert report.ok, report
    # train-mode dropout in a module: evaluations are repeatable because torch is reseeded
    drop = torch.nn.Sequential(torch.nn.Linear(5, 6), torch.nn.Dropout(0.5), torch.nn.Linear(6, 2)).double().train()
    assert G.check_module_gradients(drop, torch.randn(4, 5, dtype=D)).ok


def test_module_is_left_untouched():
    lin = torch.nn.Linear(3, 2)
    before = {k: v.clone() for k, v in lin.state_dict().items()}
    G.check_module_gradients(lin, torch.randn(4, 3))
    assert all(torch.equal(before[k], v) and v.dtype == torch.float32 for k, v in lin.state_dict().items())


def test_numerical_gradient_matches_closed_form():
    x = torch.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=D)
    n = G.numerical_gradient(lambda t: (t.sin() * t).sum(), x)
    exact = x.sin() + x * x.cos()
    assert n.dtype == D and (n - exact).abs().max() < 1e-8


# ---------------------------------------------------------------------------------------------
# Planted bugs fail, naming the tensor
# ---------------------------------------------------------------------------------------------

def dense_backward_forgets_transpose(dout, cache):
    x, w = cache
    return dout @ w, x.T @ dout, dout.sum(0)  # dx should be dout @ w.T


def dense_backward_doubles_db(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, 2 * dout.sum(0)  # factor of 2


def conv_backward_pads_the_wrong_side(dout, cache):
    """Crops dx as if SAME had put the odd extra pad on top/left (PyTorch-style thinking)."""
    cols, w, has_bias, (n, h, wd, c), (hp, wp), (top, left), strides = cache
    wrong = (cols, w, has_bias, (n, h, wd, c), (hp, wp), (hp - h - top, wp - wd - left), strides)
    return S.conv2d_backward(dout, wrong)


def test_planted_bugs_fail_and_name_the_tensor():
    g = torch.Generator().manual_seed(0)
    x, w, b = rand(g, 4, 5), rand(g, 5, 5), rand(g, 5)  # square w: the missing transpose still fits
    report = G.check_scratch_pair(S.dense_forward, dense_backward_forgets_transpose, x, w, b)
    assert not report.ok and report.failed == ["x"] and report["x"].status == "wrong"
    assert "x: WRONG" in str(report)

    report = G.check_scratch_pair(S.dense_forward, dense_backward_doubles_db, x, w, b)
    assert not report.ok and report.failed == ["b"]
    assert math.isclose(report["b"].analytic, 2 * report["b"].numeric, rel_tol=1e-6)

    xi, k = rand(g, 2, 6, 6, 2), rand(g, 2, 2, 2, 3)  # 2×2 kernel, stride 1: SAME pads 0 top, 1 bottom
    report = G.check_scratch_pair(S.conv2d_forward, conv_backward_pads_the_wrong_side, xi, k, padding="SAME")
    assert not report.ok and report.failed == ["x"], report
    assert G.check_scratch_pair(S.conv2d_forward, S.conv2d_backward, xi, k, padding="SAME").ok


def test_wrong_autograd_function_in_a_module_fails():
    class BadCube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return t ** 3

        @staticmethod
        def backward(ctx, grad):
            (t,) = ctx.saved_tensors
            return grad * 3 * t  # should be 3·t²

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.tensor([1.5, -0.7]))
            self.shift = torch.nn.Parameter(torch.tensor([0.2, 0.1]))

        def forward(self, x):
            return BadCube.apply(x * self.scale) + self.shift

    report = G.check_module_gradients(Model(), torch.randn(3, 2))
    assert report.failed == ["scale"] and report["shift"].ok


def test_wrong_analytic_gradient_is_caught():
    x = torch.randn(6, dtype=D)
    right = G.check_gradients(lambda t: (t ** 2).sum(), x, analytic=lambda t: 2 * t)
    wrong = G.check_gradients(lambda t: (t ** 2).sum(), x, analytic=[2.02 * x])
    assert right.ok and not wrong.ok and wrong["t"].status == "suspicious"


# ---------------------------------------------------------------------------------------------
# Warnings, kinks, sampling, report
# ---------------------------------------------------------------------------------------------

def test_float32_inputs_warn_and_are_checked_in_float64():
    x = torch.randn(3, 2)
    with pytest.warns(G.GradcheckWarning, match="float64"):
        report = G.check_scratch_pair(S.sigmoid_forward, S.sigmoid_backward, x)
    assert report.ok and x.dtype == torch.float32
    assert any("float32" in n for n in report.notes)
    with pytest.warns(G.GradcheckWarning, match="float32"):
        G.numerical_gradient(lambda t: t.sum(), x)


def test_relu_at_zero_and_pool_ties_are_kinks_not_failures():
    x = torch.tensor([[-1.0, 0.0, 2.0], [0.0, 3.0, -0.5]], dtype=D)
    with pytest.warns(G.GradcheckWarning, match="ReLU input"):
        report = G.check_scratch_pair(S.relu_forward, S.relu_backward, x)
    assert report.ok and report["x"].kinks == 2 and report["x"].kink_index == (0, 1)

    ties = torch.tensor([[1.0, 1.0], [0.0, 1.0]], dtype=D).reshape(1, 2, 2, 1)
    with pytest.warns(G.GradcheckWarning, match="tie"):
        report = G.check_scratch_pair(S.max_pool2d_forward, S.max_pool2d_backward, ties, 2)
    assert report.ok and report["x"].kinks == 3  # the three tied maxima

    # a kink does not excuse a real bug: doubling the ReLU gradient still fails
    report = G.check_scratch_pair(S.relu_forward, lambda dout, cache: 2 * S.relu_backward(dout, cache), x)
    assert report.failed == ["x"]


def test_large_tensors_are_sampled_reproducibly():
    x = torch.randn(40, 30, dtype=D)
    calls = []

    def f(t):
        calls.append(1)
        return (t.tanh() ** 2).sum()

    report = G.check_gradients(f, x, max_samples=50, seed=3)
    assert report.ok and report["t"].checked == 50 and report["t"].total == 1200
    assert len(calls) <= 2 + 2 * 50  # autograd pass, base value, two per sampled element
    again = G.check_gradients(f, x, max_samples=50, seed=3)
    assert again["t"].index == report["t"].index and again["t"].max_rel_error == report["t"].max_rel_error


def test_report_prints_a_table_and_explains_thresholds():
    g = torch.Generator().manual_seed(1)
    x, w, b = rand(g, 3, 4), rand(g, 4, 4), rand(g, 4)
    report = G.check_scratch_pair(S.dense_forward, dense_backward_forgets_transpose, x, w, b)
    text = str(report)
    assert text.startswith("gradcheck dense_forward/dense_backward_forgets_transpose: FAILED")
    for word in ("tensor", "max rel err", "worst at", "WRONG", "pass", "1e-07", "1e-02"):
        assert word in text
    html = report._repr_html_()
    assert "<table>" in html and "WRONG" in html
    with pytest.raises(AssertionError, match="x: WRONG"):
        report.assert_ok()
    with pytest.raises(KeyError, match="has"):
        report["nope"]

    class Printer:
        def __init__(self):
            self.out = ""

        def text(self, s):
            self.out += s

    p = Printer()
    report._repr_pretty_(p, False)
    assert p.out == text


def test_misuse_gets_clear_errors():
    with pytest.raises(ValueError, match="scalar"):
        G.check_gradients(lambda t: t * 2, torch.randn(3, dtype=D))
    with pytest.raises(ValueError, match="shape"):
        G.check_scratch_pair(S.dense_forward, lambda dout, cache: (dout, dout, dout),
                             torch.randn(2, 3, dtype=D), torch.randn(3, 4, dtype=D), torch.randn(4, dtype=D))
