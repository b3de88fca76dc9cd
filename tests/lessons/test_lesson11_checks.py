"""Lesson 11's checks pass reference solutions and fail planted mistakes with a useful message."""
import math

import pytest
import torch
import torch.nn.functional as F

from lesson_status import status as _status


def conv_output_size(size, kernel, stride=1, padding="VALID"):
    if padding.upper() == "SAME":
        return math.ceil(size / stride)
    return math.ceil((size - kernel + 1) / stride)


def conv2d_nhwc(x, kernel, bias, stride=1, padding="VALID", *, flip=False, symmetric=False, use_bias=True):
    kh, kw, _, f = kernel.shape
    if flip:
        kernel = kernel.flip(0, 1)
    n, h, w, _ = x.shape
    if padding.upper() == "SAME":
        oh, ow = math.ceil(h / stride), math.ceil(w / stride)
        ph, pw = max((oh - 1) * stride + kh - h, 0), max((ow - 1) * stride + kw - w, 0)
        if symmetric:
            x = F.pad(x, (0, 0, kw // 2, kw // 2, kh // 2, kh // 2))
            oh, ow = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
        else:
            x = F.pad(x, (0, 0, pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))
    else:
        oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    out = torch.zeros(n, oh, ow, f, dtype=x.dtype)
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]     # (N, KH, KW, C)
            out[:, i, j, :] = torch.einsum("nhwc,hwcf->nf", patch, kernel)
    return out + bias if use_bias else out


def max_pool_nhwc(x, pool_size=2, stride=None):
    s = pool_size if stride is None else stride
    n, h, w, c = x.shape
    oh, ow = (h - pool_size) // s + 1, (w - pool_size) // s + 1
    out = torch.empty(n, oh, ow, c, dtype=x.dtype)
    for i in range(oh):
        for j in range(ow):
            out[:, i, j, :] = x[:, i * s:i * s + pool_size, j * s:j * s + pool_size, :].amax(dim=(1, 2))
    return out


def build_cnn(filters1=32, filters2=64, hidden=64, num_classes=10, *, padding="valid", kernel=3, reshape=True):
    from course.tf.keras import layers, models
    first = ([layers.Reshape(target_shape=(28, 28, 1), input_shape=(28, 28))] if reshape else [])
    return models.Sequential(first + [
        layers.Conv2D(filters1, (kernel, kernel), activation="relu", padding=padding),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(filters2, (kernel, kernel), activation="relu", padding=padding),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(hidden, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ])


def train_step(model, optimizer, loss_fn, x, y, *, training=True, apply=True):
    from course import tf
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=training))
    grads = tape.gradient(loss, model.trainable_variables)
    if apply:
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


@pytest.mark.parametrize("eid, fn", [("11.1", conv_output_size), ("11.2", conv2d_nhwc), ("11.3", max_pool_nhwc),
                                     ("11.4", build_cnn), ("11.5", train_step)])
def test_reference_solutions_pass(eid, fn):
    assert _status(eid, fn) == ("passed", "")


@pytest.mark.parametrize("eid, fn, hint", [
    ("11.1", lambda n, k, stride=1, padding="VALID": (n // stride if padding.upper() == "SAME"
                                                     else conv_output_size(n, k, stride, padding)), "rounds UP"),
    ("11.1", lambda n, k, stride=1, padding="VALID": ((n - k) // stride if padding.upper() == "VALID"
                                                     else conv_output_size(n, k, stride, padding)), "first window"),
    ("11.1", lambda n, k, stride=1, padding="VALID": float(conv_output_size(n, k, stride, padding)), "int"),
    ("11.1", lambda n, k, stride=1, padding="VALID": (math.ceil(n / stride) if padding == "SAME"
                                                     else math.ceil((n - k + 1) / stride)), "any case"),
    ("11.2", lambda x, k, b, stride=1, padding="VALID": conv2d_nhwc(x, k, b, stride, padding, flip=True), "flipped"),
    ("11.2", lambda x, k, b, stride=1, padding="VALID": conv2d_nhwc(x, k, b, stride, padding, use_bias=False),
     "bias"),
    ("11.2", lambda x, k, b, stride=1, padding="VALID": conv2d_nhwc(x, k, b, stride, padding, symmetric=True),
     "bottom/right"),
    ("11.2", lambda x, k, b, stride=1, padding="VALID": conv2d_nhwc(x, k, b, stride, padding).permute(0, 3, 1, 2),
     "channels-last"),
    ("11.3", lambda x, p=2, stride=None: max_pool_nhwc(x, p, stride).clamp(min=0), "negative"),
    ("11.3", lambda x, p=2, stride=None: max_pool_nhwc(x, p, 1 if stride is None else stride), "defaults"),
    ("11.3", lambda x, p=2, stride=None: max_pool_nhwc(x, p, stride).permute(0, 3, 1, 2), "channels-last"),
    ("11.4", lambda **kw: build_cnn(**kw, padding="same"), "valid"),
    ("11.4", lambda **kw: build_cnn(**kw, kernel=5), "kernel_size"),
    ("11.4", lambda **kw: build_cnn(**kw, reshape=False), "layer types"),
    ("11.5", lambda m, o, l, x, y: train_step(m, o, l, x, y, training=None), "training=True"),
    ("11.5", lambda m, o, l, x, y: train_step(m, o, l, x, y, apply=False), "apply_gradients"),
])
def test_planted_mistakes_fail_with_a_hint(eid, fn, hint):
    status, message = _status(eid, fn)
    assert status == "failed", (status, message)
    assert hint in message, message


def test_unsolved_exercises_report_not_implemented():
    def stub(*args, **kwargs):
        raise NotImplementedError()
    for eid in ("11.1", "11.2", "11.3", "11.4", "11.5"):
        assert _status(eid, stub)[0] == "not implemented"


def conv2d_backward_nhwc(dout, x, kernel, stride=1, padding="VALID", *, flip_dx=False, crop=True, db_sum=(0, 1, 2),
                         nchw=False):
    """Scatter-add over the windows: y[i, j] used x_pad[i·s+u, j·s+v] with weight k[u, v]."""
    kh, kw, c, f = kernel.shape
    n, h, w, _ = x.shape
    _, oh, ow, _ = dout.shape
    top = left = bottom = right = 0
    if padding.upper() == "SAME":
        ph, pw = max((oh - 1) * stride + kh - h, 0), max((ow - 1) * stride + kw - w, 0)
        top, bottom, left, right = ph // 2, ph - ph // 2, pw // 2, pw - pw // 2
    x_pad = F.pad(x, (0, 0, left, right, top, bottom))                                 # (N, Hp, Wp, C)
    k_dx = kernel.flip(0, 1) if flip_dx else kernel
    dx_pad, dk = torch.zeros_like(x_pad), torch.zeros_like(kernel)
    for i in range(oh):
        for j in range(ow):
            rows, cols = slice(i * stride, i * stride + kh), slice(j * stride, j * stride + kw)
            dx_pad[:, rows, cols, :] += torch.einsum("nf,hwcf->nhwc", dout[:, i, j, :], k_dx)
            dk += torch.einsum("nhwc,nf->hwcf", x_pad[:, rows, cols, :], dout[:, i, j, :])
    dx = dx_pad[:, top:top + h, left:left + w, :] if crop else dx_pad
    return (dx.permute(0, 3, 1, 2) if nchw else dx), dk, dout.sum(dim=db_sum)


def test_conv_backward_reference_passes():
    assert _status("11.6", conv2d_backward_nhwc) == ("passed", "")


@pytest.mark.parametrize("kwargs, hint", [
    (dict(flip_dx=True), "flipped kernel"),
    (dict(crop=False), "crop"),
    (dict(db_sum=(0,)), "positions"),
    (dict(nchw=True), "channels-last"),
])
def test_conv_backward_mistakes_fail_with_a_hint(kwargs, hint):
    status, message = _status("11.6", lambda d, x, k, stride=1, padding="VALID":
                              conv2d_backward_nhwc(d, x, k, stride, padding, **kwargs))
    assert status == "failed", (status, message)
    assert hint in message, message


def test_conv_backward_uses_of_autograd_are_refused():
    from course.exercises.forbidden import violations
    from course.exercises.registry import forbidden
    rule = forbidden("11.6")
    assert violations(["out = conv(x)\nout.backward(dout)\n"], rule)
    assert violations(["import torch\ng = torch.autograd.grad(y, x)\n"], rule)
    assert not violations(["dx = torch.zeros_like(x)\n"], rule)


def test_conv_backward_unsolved_reports_not_implemented():
    def stub(*args, **kwargs):
        raise NotImplementedError()
    assert _status("11.6", stub)[0] == "not implemented"


# -- Check your understanding: questions 11.7 and 11.8, planted bug 11.9 ---------------------------

from lesson_outcome import (  # noqa: E402
    assert_bug_fails_and_fix_passes, assert_full_marks_and_zero, assert_stub_not_implemented,
    question_verdicts, sgd_softmax)


@pytest.mark.parametrize("eid, right, wrong, why", [("11.7", 18496, 18432, "18 496"), ("11.8", "b", "a", "equivarian")])
def test_questions_recorded_then_scored_by_the_instructor_file(eid, right, wrong, why):
    keyless, good, (status, en, zh) = question_verdicts(eid, right, wrong)
    assert (keyless, good, status) == ("recorded", "passed", "failed")
    assert (why in en or why in zh) and "不是正确答案" in zh


def test_question_keys_agree_with_torch():
    """11.7: torch's Conv2d(32, 64, 3) counts the parameters; 11.8: a 'same' convolution of an image moved
    2 pixels right is its feature map moved 2 pixels right, away from the borders."""
    count = sum(p.numel() for p in torch.nn.Conv2d(32, 64, 3).parameters())
    _, good, _ = question_verdicts("11.7", count, 0)
    assert good == "passed"
    g = torch.Generator().manual_seed(0)
    image, kernel = torch.randn(1, 1, 16, 16, generator=g), torch.randn(1, 1, 3, 3, generator=g)
    moved = torch.zeros_like(image)
    moved[..., 2:] = image[..., :-2]
    out, out_moved = (torch.nn.functional.conv2d(t, kernel, padding="same") for t in (image, moved))
    assert torch.allclose(out_moved[..., 1:-1, 4:-1], out[..., 1:-1, 2:-3], atol=1e-5)
    assert not torch.allclose(out_moved[..., 1:-1, 4:-1], out[..., 1:-1, 4:-1], atol=1e-2)
    _, good, _ = question_verdicts("11.8", "b", "a")
    assert good == "passed"


def _channels_first(order):
    return lambda xb, g: xb.reshape(-1, 28, 28, 1).permute(*order).reshape(-1, 784)


def test_planted_bug_11_9_fails_and_the_fix_passes():
    def layout(order):
        return lambda x, y, budget: sgd_softmax(x, y, budget, prep=_channels_first(order))
    assert_bug_fails_and_fix_passes("11.9", layout((0, 3, 2, 1)), layout((0, 3, 1, 2)))


def test_outcome_11_9_stub_is_not_implemented():
    assert_stub_not_implemented("11.9")


@pytest.mark.slow
def test_solution_grades_full_and_lesson_zero_with_the_instructor_file():
    pytest.importorskip("ipykernel")
    assert_full_marks_and_zero("11_cnn_mnist.ipynb")
