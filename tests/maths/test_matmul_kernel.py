"""`course.layers.matmul`: large float32 products on the CPU run on oneDNN, the rest on torch.mm;
both must give float64 torch's products and gradients to float32 accuracy.

Tolerance: a float32 dot product of K terms, summed in any order, is within K·eps·Σ|a_k·b_k| of the
exact value (eps = 2^-24 ≈ 6e-8; K = 3136 gives 1.9e-4). Rounding errors of random sign add up
to about √K·eps of that (3.4e-6), which is what we see; 1e-5·Σ|a_k·b_k| holds either summation
order with room and still catches a wrong or half-done product.
"""
import warnings

import pytest
import torch

from course import layers
import course.tf.compat.v1 as tf

ONEDNN = layers._ONEDNN_LINEAR is not None
BIG = (50, 3136, 1024)      # the Deep-MNIST dense layer: 160M multiply-adds, well above the threshold


def _close(got, a, b, ref):
    """|got - ref| <= 1e-5 · (|a| @ |b|), elementwise."""
    bound = 1e-5 * (a.abs() @ b.abs())
    err = (got.double() - ref).abs()
    assert bool((err <= bound).all()), f"worst error {(err / bound).max().item():.2f}x the bound"


def _inputs(m, k, n, transpose_b, seed=0):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(m, k, generator=g, dtype=torch.float64)
    b = torch.randn(n, k, generator=g, dtype=torch.float64) if transpose_b else \
        torch.randn(k, n, generator=g, dtype=torch.float64)
    return a, b


@pytest.mark.parametrize("transpose_b", [False, True])
@pytest.mark.parametrize("shape", [BIG, (8, 2, 3), (32, 784, 128)])
def test_product_and_gradients_match_float64(shape, transpose_b):
    a64, b64 = _inputs(*shape, transpose_b)
    b_mat = b64.t() if transpose_b else b64
    a = a64.float().requires_grad_()
    b = b64.float().requires_grad_()
    y = layers.matmul(a, b, transpose_b=transpose_b)
    assert y.shape == (shape[0], shape[2])
    _close(y, a64, b_mat, a64 @ b_mat)

    g64 = torch.randn(shape[0], shape[2], generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    y.backward(g64.float())
    ga_ref = g64 @ b_mat.t()                                     # dA = G Bᵀ
    gb_ref = a64.t() @ g64                                       # dB = Aᵀ G (of the (k, n) matrix)
    _close(a.grad, g64, b_mat.t(), ga_ref)
    if transpose_b:
        _close(b.grad, g64.t(), a64, gb_ref.t())
    else:
        _close(b.grad, a64.t(), g64, gb_ref)


@pytest.mark.skipif(not ONEDNN, reason="this torch build has no oneDNN matmul")
def test_large_float32_products_take_the_onednn_path_and_the_rest_do_not():
    a, b = _inputs(*BIG, False)
    a, b = a.float().requires_grad_(), b.float().requires_grad_()
    assert "OneDNN" in type(layers.matmul(a, b).grad_fn).__name__
    assert "OneDNN" in type(layers.matmul(a, b.t().contiguous(), transpose_b=True).grad_fn).__name__
    tiny = layers.matmul(torch.ones(8, 2, requires_grad=True), torch.ones(2, 3))
    assert type(tiny.grad_fn).__name__ == "MmBackward0"
    transposed = a.detach().t().requires_grad_()                 # not contiguous: torch.mm
    assert type(layers.matmul(transposed, torch.ones(50, 1024)).grad_fn).__name__ == "MmBackward0"
    assert layers.matmul(a.detach().double(), b.detach().double()).dtype == torch.float64
    with warnings.catch_warnings():                              # flags() warns about Intel GPUs' TF32
        warnings.simplefilter("ignore", UserWarning)
        with torch.backends.mkldnn.flags(enabled=False):         # the user switched oneDNN off
            assert type(layers.matmul(a, b).grad_fn).__name__ == "MmBackward0"


def test_second_derivative_matches_float64():
    a64, b64 = _inputs(*BIG, False)
    results = []
    for dtype in (torch.float32, torch.float64):
        a = a64.to(dtype).requires_grad_()
        b = b64.to(dtype).requires_grad_()
        (ga,) = torch.autograd.grad(layers.matmul(a, b).square().sum(), a, create_graph=True)
        ga.sum().backward()                                      # d/dB of Σ 2(AB)Bᵀ
        results.append(b.grad.double())
    err = (results[0] - results[1]).abs().max() / results[1].abs().max()
    assert err < 1e-5


def test_mismatched_inner_sizes_still_raise_torchs_error():
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        layers.matmul(torch.ones(64, 4096), torch.ones(2048, 1024))


def test_graph_matmul_of_a_dense_layer_and_its_gradients_match_numpy():
    a64, b64 = _inputs(*BIG, False)
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, BIG[1]])
        w = tf.constant(b64.float().numpy())
        y = tf.matmul(x, w)
        loss = tf.reduce_sum(y * y) / 2                          # dL/dx = y Wᵀ
        (dx,) = tf.gradients(loss, [x])
        with tf.Session() as sess:
            got_y, got_dx = sess.run([y, dx], {x: a64.float().numpy()})
    ref_y = a64 @ b64
    _close(torch.from_numpy(got_y), a64, b64, ref_y)
    y32 = torch.from_numpy(got_y).double()
    _close(torch.from_numpy(got_dx), y32, b64.t(), y32 @ b64.t())


def test_a_graphs_kernel_for_a_tiny_layer_is_torch_mm_itself():
    """A graph binds its MatMul kernel before the batch size is known: a 2x3 weight can never
    reach oneDNN's threshold, so the plan calls torch.mm with no per-step check; a dense layer's
    3136x1024 weight gets the checking `matmul`."""
    assert layers.matmul_kernel(2, 3) is torch.mm
    assert layers.matmul_kernel(3, 2, transpose_b=True) is torch.nn.functional.linear
    if ONEDNN:
        assert layers.matmul_kernel(3136, 1024) is layers.matmul
        assert layers.matmul_kernel(None, 1024) is layers.matmul
        x = torch.randn(50, 3136)
        w = torch.randn(1024, 3136)
        _close(layers.matmul_kernel(3136, 1024, transpose_b=True)(x, w), x.double(), w.double().t(),
               x.double() @ w.double().t())


@pytest.mark.parametrize("view", ["every other column", "every other row", "broadcast column", "transposed"])
def test_weights_that_are_views_give_the_same_products(view):
    """A variable's value may be a strided view: the product must read it by its strides, and stay
    fast (oneDNN's code for other strides is its slow reference loop: seconds, not milliseconds)."""
    g = torch.Generator().manual_seed(2)
    a = torch.randn(64, 4096, generator=g)
    b = {"every other column": lambda: torch.randn(4096, 2048, generator=g)[:, ::2],
         "every other row": lambda: torch.randn(8192, 1024, generator=g)[::2],
         "broadcast column": lambda: torch.randn(4096, 1, generator=g).expand(4096, 1024),
         "transposed": lambda: torch.randn(1024, 4096, generator=g).t()}[view]()
    b64 = b.double().contiguous()                               # the reference reads a plain copy
    ref = a.double() @ b64
    _close(layers.matmul(a, b), a.double(), b64, ref)
    _close(layers.matmul(a, b.t(), transpose_b=True), a.double(), b64, ref)
    if ONEDNN:                           # only a weight oneDNN reads fast (plain or transposed) goes there
        fast = view == "transposed"
        y = layers.matmul(a.requires_grad_(), b)
        assert ("OneDNN" in type(y.grad_fn).__name__) == fast, type(y.grad_fn).__name__
