"""course.scratch: every hand-written backward against torch autograd (float64), forwards against
torch.nn.functional, layouts and padding against real TensorFlow (parity), and the scratch MLP."""
import time

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from course import scratch as S

D = torch.float64
FEW = settings(max_examples=15, deadline=None)


def rel_error(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| / max(max |a|, max |b|): the tensor-level relative error."""
    a, b = a.detach().to(D), b.detach().to(D)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = max(a.abs().max().item() if a.numel() else 0.0, b.abs().max().item() if b.numel() else 0.0, 1e-30)
    return (a - b).abs().max().item() / scale if a.numel() else 0.0


def assert_grads_match(ours, reference, tol=1e-7):
    for i, (a, b) in enumerate(zip(ours, reference)):
        err = rel_error(a, b)
        assert err <= tol, f"gradient {i}: relative error {err:.2e} > {tol:.0e}"


def autograd(fn, inputs, dout):
    """Reference gradients of Σ fn(*inputs) ⊙ dout by torch autograd."""
    leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
    out = fn(*leaves)
    return out.detach(), torch.autograd.grad(out, leaves, dout)


def rand(gen, *shape, scale=1.0):
    return torch.randn(*shape, generator=gen, dtype=D) * scale


def tf_pads(size, k, s):
    """TensorFlow's SAME rule written out from its documentation (independent of course.scratch)."""
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def torch_conv_nhwc(x, w, b, stride, padding):
    kh, kw = w.shape[:2]
    if padding == "SAME":
        (t, bo), (le, r) = tf_pads(x.shape[1], kh, stride), tf_pads(x.shape[2], kw, stride)
        x = F.pad(x, (0, 0, le, r, t, bo))
    y = F.conv2d(x.permute(0, 3, 1, 2).contiguous(), w.permute(3, 2, 0, 1).contiguous(), b, stride=stride)
    return y.permute(0, 2, 3, 1)


def torch_pool_nhwc(x, k, stride, padding):
    if padding == "SAME":
        (t, bo), (le, r) = tf_pads(x.shape[1], k[0], stride), tf_pads(x.shape[2], k[1], stride)
        x = F.pad(x, (0, 0, le, r, t, bo), value=float("-inf"))
    return F.max_pool2d(x.permute(0, 3, 1, 2), k, stride).permute(0, 2, 3, 1)


# ---------------------------------------------------------------------------------------------
# Dense, flatten, activations
# ---------------------------------------------------------------------------------------------

@FEW
@given(n=st.integers(1, 8), d=st.integers(1, 12), m=st.integers(1, 12), seed=st.integers(0, 2**16))
def test_dense_matches_autograd(n, d, m, seed):
    g = torch.Generator().manual_seed(seed)
    x, w, b = rand(g, n, d), rand(g, d, m), rand(g, m)
    dout = rand(g, n, m)
    out, cache = S.dense_forward(x, w, b)
    ref_out, ref = autograd(lambda x, w, b: F.linear(x, w.T, b), [x, w, b], dout)  # Keras (in, out) kernel
    assert rel_error(out, ref_out) <= 1e-12
    assert_grads_match(S.dense_backward(dout, cache), ref)


def test_dense_errors_say_what_to_do():
    with pytest.raises(ValueError, match="Flatten"):
        S.dense_forward(torch.zeros(2, 3, 4), torch.zeros(12, 5), torch.zeros(5))
    with pytest.raises(ValueError, match=r"\(in, out\)"):
        S.dense_forward(torch.zeros(2, 3), torch.zeros(5, 3), torch.zeros(5))


def test_flatten_is_keras_order_and_backward_restores_shape():
    x = torch.arange(2 * 3 * 4 * 5, dtype=D).reshape(2, 3, 4, 5)
    out, cache = S.flatten_forward(x)
    assert out.shape == (2, 60) and torch.equal(out[1], x[1].reshape(-1))  # H, W, C order
    dout = torch.randn(2, 60, dtype=D)
    assert torch.equal(S.flatten_backward(dout, cache), dout.reshape(2, 3, 4, 5))


@pytest.mark.parametrize("name, ref", [
    ("relu", torch.relu), ("sigmoid", torch.sigmoid), ("tanh", torch.tanh),
    ("softmax", lambda x: torch.softmax(x, dim=-1)),
])
@FEW
@given(shape=st.lists(st.integers(1, 6), min_size=1, max_size=3), seed=st.integers(0, 2**16))
def test_activations_match_autograd(name, ref, shape, seed):
    g = torch.Generator().manual_seed(seed)
    x, dout = rand(g, *shape, scale=3.0), rand(g, *shape)
    forward, backward = getattr(S, f"{name}_forward"), getattr(S, f"{name}_backward")
    out, cache = forward(x)
    ref_out, (ref_dx,) = autograd(ref, [x], dout)
    assert rel_error(out, ref_out) <= 1e-12
    assert_grads_match([backward(dout, cache)], [ref_dx])


def test_softmax_is_stable_for_huge_logits():
    out, _ = S.softmax_forward(torch.tensor([[1000.0, 0.0, -1000.0]]))
    assert torch.isfinite(out).all() and out[0, 0] == 1.0


# ---------------------------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------------------------

@FEW
@given(n=st.integers(1, 8), c=st.integers(2, 7), seed=st.integers(0, 2**16), onehot=st.booleans())
def test_softmax_cross_entropy_matches_torch(n, c, seed, onehot):
    g = torch.Generator().manual_seed(seed)
    logits = rand(g, n, c, scale=3.0)
    labels = torch.randint(0, c, (n,), generator=g)
    target = F.one_hot(labels, c).to(D) if onehot else labels
    loss, dlogits = S.softmax_cross_entropy(logits, target)
    leaf = logits.clone().requires_grad_(True)
    ref = F.cross_entropy(leaf, target)  # mean over the batch; accepts probabilities too
    (ref_d,) = torch.autograd.grad(ref, leaf)
    assert abs(loss.item() - ref.item()) <= 1e-12 * max(1.0, abs(ref.item()))
    assert_grads_match([dlogits], [ref_d])


def test_softmax_cross_entropy_accepts_soft_targets_and_rejects_bad_labels():
    logits = torch.randn(4, 3, dtype=D)
    probs = torch.softmax(torch.randn(4, 3, dtype=D), dim=1)
    loss, d = S.softmax_cross_entropy(logits, probs)
    leaf = logits.clone().requires_grad_(True)
    ref = F.cross_entropy(leaf, probs)
    assert_grads_match([d], torch.autograd.grad(ref, leaf))
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        S.softmax_cross_entropy(logits, torch.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="one-hot"):
        S.softmax_cross_entropy(logits, torch.zeros(4, 2))


@FEW
@given(n=st.integers(1, 8), c=st.integers(2, 7), seed=st.integers(0, 2**16))
def test_svm_loss_is_cs231n_multiclass_hinge(n, c, seed):
    g = torch.Generator().manual_seed(seed)
    scores = rand(g, n, c, scale=2.0)
    labels = torch.randint(0, c, (n,), generator=g)
    loss, dscores = S.svm_loss(scores, labels)
    leaf = scores.clone().requires_grad_(True)
    # torch's multi_margin_loss divides each sample's sum by the number of classes; CS231n does not.
    ref = F.multi_margin_loss(leaf, labels, margin=1.0) * c
    (ref_d,) = torch.autograd.grad(ref, leaf)
    assert abs(loss.item() - ref.item()) <= 1e-12 * max(1.0, ref.item())
    assert_grads_match([dscores], [ref_d])


@FEW
@given(shape=st.lists(st.integers(1, 6), min_size=1, max_size=3), seed=st.integers(0, 2**16),
       binary=st.booleans())
def test_hinge_and_mse_match_autograd(shape, seed, binary):
    g = torch.Generator().manual_seed(seed)
    pred = rand(g, *shape, scale=2.0)
    t01 = torch.randint(0, 2, shape, generator=g).to(D)
    target = t01 if binary else 2 * t01 - 1
    loss, dpred = S.hinge_loss(pred, target)
    leaf = pred.clone().requires_grad_(True)
    ref = torch.clamp(1 - (2 * t01 - 1) * leaf, min=0).mean()  # Keras hinge with -1/+1 targets
    assert abs(loss.item() - ref.item()) <= 1e-12 * max(1.0, ref.item())
    assert_grads_match([dpred], torch.autograd.grad(ref, leaf))

    target = rand(g, *shape)
    loss, dpred = S.mse_loss(pred, target)
    ref = F.mse_loss(leaf, target)
    assert abs(loss.item() - ref.item()) <= 1e-12 * max(1.0, ref.item())
    assert_grads_match([dpred], torch.autograd.grad(ref, leaf))


# ---------------------------------------------------------------------------------------------
# Dropout and batch normalisation
# ---------------------------------------------------------------------------------------------

def test_dropout_is_inverted_reproducible_and_identity_at_inference():
    x = torch.ones(200, 500, dtype=D)
    out, mask = S.dropout_forward(x, 0.3, generator=torch.Generator().manual_seed(1))
    kept = out != 0
    assert abs(kept.double().mean().item() - 0.7) < 0.01
    assert torch.allclose(out[kept], torch.full_like(out[kept], 1 / 0.7))  # scaled by 1/(1 - rate)
    again, _ = S.dropout_forward(x, 0.3, generator=torch.Generator().manual_seed(1))
    assert torch.equal(out, again)
    dout = torch.randn_like(x)
    dx = S.dropout_backward(dout, mask)
    ref_out, (ref_dx,) = autograd(lambda t: t * mask, [x], dout)  # same mask, autograd
    assert torch.equal(out, ref_out) and torch.equal(dx, ref_dx)
    y, cache = S.dropout_forward(x, 0.3, training=False)
    assert y is x and torch.equal(S.dropout_backward(dout, cache), dout)
    with pytest.raises(ValueError, match="keep_prob"):
        S.dropout_forward(x, 1.0)


@FEW
@given(lead=st.lists(st.integers(1, 4), min_size=1, max_size=3), d=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_batchnorm_matches_autograd_and_keras_moving_stats(lead, d, seed):
    g = torch.Generator().manual_seed(seed)
    shape = (*lead, d)
    if torch.tensor(lead).prod() < 2:
        shape = (2, *shape)
    x, gamma, beta = rand(g, *shape, scale=2.0) + 1.0, rand(g, d), rand(g, d)
    dout = rand(g, *shape)
    mean, var = torch.zeros(d, dtype=D), torch.ones(d, dtype=D)
    out, cache = S.batchnorm_forward(x, gamma, beta, running_mean=mean, running_var=var)

    def ref_fn(x, gamma, beta):  # torch's training-mode batch_norm normalises with the biased variance
        return F.batch_norm(x.reshape(-1, d), None, None, gamma, beta, training=True, eps=1e-3).reshape(x.shape)

    ref_out, ref = autograd(ref_fn, [x, gamma, beta], dout)
    assert rel_error(out, ref_out) <= 1e-10
    assert_grads_match(S.batchnorm_backward(dout, cache), ref)
    flat = x.reshape(-1, d)
    assert torch.allclose(mean, 0.01 * flat.mean(0))  # Keras: moving = 0.99·moving + 0.01·batch
    assert torch.allclose(var, 0.99 + 0.01 * flat.var(0, unbiased=False))  # biased variance, as Keras


def test_batchnorm_inference_uses_moving_stats():
    x, gamma, beta = torch.randn(6, 3, dtype=D), torch.rand(3, dtype=D) + 0.5, torch.randn(3, dtype=D)
    mean, var = torch.randn(3, dtype=D), torch.rand(3, dtype=D) + 0.5
    dout = torch.randn(6, 3, dtype=D)
    out, cache = S.batchnorm_forward(x, gamma, beta, running_mean=mean, running_var=var, training=False)
    ref_fn = lambda x, g_, b_: F.batch_norm(x, mean, var, g_, b_, training=False, eps=1e-3)  # noqa: E731
    ref_out, ref = autograd(ref_fn, [x, gamma, beta], dout)
    assert rel_error(out, ref_out) <= 1e-12
    assert_grads_match(S.batchnorm_backward(dout, cache), ref)


# ---------------------------------------------------------------------------------------------
# Convolution and pooling
# ---------------------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 2), h=st.integers(1, 8), w=st.integers(1, 8), c=st.integers(1, 3), f=st.integers(1, 3),
       kh=st.integers(1, 4), kw=st.integers(1, 4), s=st.integers(1, 3), padding=st.sampled_from(["SAME", "VALID"]),
       bias=st.booleans(), seed=st.integers(0, 2**16))
def test_conv2d_matches_torch_forward_and_autograd(n, h, w, c, f, kh, kw, s, padding, bias, seed):
    if padding == "VALID" and (kh > h or kw > w):
        with pytest.raises(ValueError, match="SAME"):
            S.conv2d_forward(torch.zeros(n, h, w, c), torch.zeros(kh, kw, c, f), strides=s, padding=padding)
        return
    g = torch.Generator().manual_seed(seed)
    x, k, b = rand(g, n, h, w, c), rand(g, kh, kw, c, f), (rand(g, f) if bias else None)
    out, cache = S.conv2d_forward(x, k, b, strides=s, padding=padding)
    dout = rand(g, *out.shape)
    inputs = [x, k] + ([b] if bias else [])
    ref_out, ref = autograd(lambda x, k, *b: torch_conv_nhwc(x, k, b[0] if b else None, s, padding), inputs, dout)
    assert out.shape == ref_out.shape and rel_error(out, ref_out) <= 1e-12
    dx, dk, db = S.conv2d_backward(dout, cache)
    assert (db is None) == (not bias)
    assert_grads_match([dx, dk] + ([db] if bias else []), ref)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_conv2d_same_stride1_agrees_with_torch_padding_same(k):
    """torch's padding='same' (stride 1) also puts an odd extra pad at the bottom/right."""
    x, w = torch.randn(2, 7, 6, 3, dtype=D), torch.randn(k, k, 3, 4, dtype=D)
    out, _ = S.conv2d_forward(x, w, padding="same")
    ref = F.conv2d(x.permute(0, 3, 1, 2), w.permute(3, 2, 0, 1), padding="same").permute(0, 2, 3, 1)
    assert rel_error(out, ref) <= 1e-12


def test_same_padding_puts_the_extra_pixel_bottom_right():
    assert S.same_padding(5, 2, 1) == (0, 1)
    assert S.same_padding(6, 3, 2) == (0, 1)
    assert S.same_padding(7, 4, 1) == (1, 2)
    assert S.output_size(28, 5, 2, "SAME") == 14 and S.output_size(28, 5, 2, "VALID") == 12


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 2), h=st.integers(1, 8), w=st.integers(1, 8), c=st.integers(1, 3),
       kh=st.integers(1, 3), kw=st.integers(1, 3), s=st.integers(1, 3), padding=st.sampled_from(["SAME", "VALID"]),
       seed=st.integers(0, 2**16))
def test_max_pool_matches_torch_forward_and_autograd(n, h, w, c, kh, kw, s, padding, seed):
    if padding == "VALID" and (kh > h or kw > w):
        return
    g = torch.Generator().manual_seed(seed)
    x = rand(g, n, h, w, c)
    out, cache = S.max_pool2d_forward(x, (kh, kw), strides=s, padding=padding)
    dout = rand(g, *out.shape)
    ref_out, (ref_dx,) = autograd(lambda x: torch_pool_nhwc(x, (kh, kw), s, padding), [x], dout)
    assert torch.equal(out, ref_out)
    assert_grads_match([S.max_pool2d_backward(dout, cache)], [ref_dx])


def test_max_pool_ties_send_the_whole_gradient_to_the_first_maximum():
    x = torch.tensor([[1.0, 3.0, 3.0, 0.0], [3.0, 2.0, 3.0, 3.0]], dtype=D).reshape(1, 2, 4, 1)
    out, cache = S.max_pool2d_forward(x, 2)  # windows [[1,3],[3,2]] and [[3,0],[3,3]]
    dx = S.max_pool2d_backward(torch.ones_like(out), cache)
    expected = torch.tensor([[0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]], dtype=D).reshape(1, 2, 4, 1)
    assert torch.equal(dx, expected)
    # torch's CPU kernel breaks ties the same way (first in row-major window order)
    _, (ref_dx,) = autograd(lambda t: torch_pool_nhwc(t, (2, 2), 2, "VALID"), [x], torch.ones_like(out))
    assert torch.equal(dx, ref_dx)


def test_max_pool_overlapping_windows_accumulate():
    x = torch.tensor([[0.0, 5.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], dtype=D).reshape(1, 3, 3, 1)
    out, cache = S.max_pool2d_forward(x, 2, strides=1)  # 5 is the maximum of two windows
    dx = S.max_pool2d_backward(torch.ones_like(out), cache)
    assert dx[0, 0, 1, 0] == 2.0


# ---------------------------------------------------------------------------------------------
# Parity with real TensorFlow
# ---------------------------------------------------------------------------------------------

@pytest.mark.parity
@pytest.mark.parametrize("h, w, k, s, padding", [
    (7, 7, 3, 2, "SAME"), (6, 6, 2, 1, "SAME"), (8, 5, 4, 3, "SAME"), (5, 6, 2, 2, "SAME"),
    (7, 7, 3, 2, "VALID"), (6, 5, 2, 1, "VALID"),
])
def test_conv_and_pool_match_tensorflow(h, w, k, s, padding):
    tf = pytest.importorskip("tensorflow")
    x = torch.randn(2, h, w, 3, dtype=D)
    kern = torch.randn(k, k, 3, 4, dtype=D)
    out, cache = S.conv2d_forward(x, kern, strides=s, padding=padding)
    dout = torch.randn(out.shape, dtype=D)
    dx, dk, _ = S.conv2d_backward(dout, cache)
    tx, tk = tf.constant(x.numpy()), tf.constant(kern.numpy())
    with tf.GradientTape() as tape:
        tape.watch([tx, tk])
        ty = tf.nn.conv2d(tx, tk, strides=s, padding=padding)
    tdx, tdk = tape.gradient(ty, [tx, tk], output_gradients=tf.constant(dout.numpy()))
    assert rel_error(out, torch.from_numpy(ty.numpy())) <= 1e-12
    assert rel_error(dx, torch.from_numpy(tdx.numpy())) <= 1e-12
    assert rel_error(dk, torch.from_numpy(tdk.numpy())) <= 1e-12

    # max pooling, on small integers so that windows contain ties
    xi = torch.randint(0, 3, (2, h, w, 3)).to(D)
    out, cache = S.max_pool2d_forward(xi, k, strides=s, padding=padding)
    dout = torch.randn(out.shape, dtype=D)
    txi = tf.constant(xi.numpy())
    with tf.GradientTape() as tape:
        tape.watch(txi)
        ty = tf.nn.max_pool2d(txi, ksize=k, strides=s, padding=padding)
    tdx = tape.gradient(ty, txi, output_gradients=tf.constant(dout.numpy()))
    assert torch.equal(out, torch.from_numpy(ty.numpy()))
    assert rel_error(S.max_pool2d_backward(dout, cache), torch.from_numpy(tdx.numpy())) <= 1e-12


@pytest.mark.parity
def test_batchnorm_and_hinge_match_keras():
    tf = pytest.importorskip("tensorflow")
    x = torch.randn(8, 4, 4, 3, dtype=torch.float32) * 2 + 1
    layer = tf.keras.layers.BatchNormalization()
    y_tf = layer(tf.constant(x.numpy()), training=True).numpy()
    mean, var = torch.zeros(3), torch.ones(3)
    y, _ = S.batchnorm_forward(x, torch.ones(3), torch.zeros(3), running_mean=mean, running_var=var)
    assert rel_error(y, torch.from_numpy(y_tf)) <= 1e-5
    assert rel_error(mean, torch.from_numpy(layer.moving_mean.numpy())) <= 1e-5
    assert rel_error(var, torch.from_numpy(layer.moving_variance.numpy())) <= 1e-5

    pred, t = torch.randn(5, 3, dtype=D), torch.randint(0, 2, (5, 3)).to(D)
    ref = tf.reduce_mean(tf.keras.losses.hinge(t.numpy(), pred.numpy())).numpy()
    assert abs(S.hinge_loss(pred, t)[0].item() - float(ref)) <= 1e-12


# ---------------------------------------------------------------------------------------------
# Devices
# ---------------------------------------------------------------------------------------------

@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_pairs_run_on_cuda_and_agree_with_cpu():
    x, k, b = torch.randn(2, 9, 9, 3, dtype=D), torch.randn(3, 3, 3, 4, dtype=D), torch.randn(4, dtype=D)
    out, cache = S.conv2d_forward(x, k, b, strides=2, padding="SAME")
    dout = torch.randn(out.shape, dtype=D)
    out_c, cache_c = S.conv2d_forward(x.cuda(), k.cuda(), b.cuda(), strides=2, padding="SAME")
    assert out_c.is_cuda and rel_error(out_c.cpu(), out) <= 1e-12
    for a, c in zip(S.conv2d_backward(dout, cache), S.conv2d_backward(dout.cuda(), cache_c)):
        assert rel_error(c.cpu(), a) <= 1e-12
    p, pc = S.max_pool2d_forward(out, 2, padding="SAME"), S.max_pool2d_forward(out_c, 2, padding="SAME")
    assert torch.equal(p[0], pc[0].cpu())


# ---------------------------------------------------------------------------------------------
# The from-scratch MLP
# ---------------------------------------------------------------------------------------------

def test_two_layer_net_gradients_match_autograd():
    net = S.TwoLayerNet(12, 7, 4, dtype=torch.float32, device="cpu", seed=3)
    net.params = {k: v.to(D) for k, v in net.params.items()}
    x, y = torch.randn(5, 12, dtype=D), torch.tensor([0, 3, 1, 1, 2])
    loss, grads = net.loss(x, y, l2=0.1)
    leaves = {k: v.clone().requires_grad_(True) for k, v in net.params.items()}
    h = torch.relu(x @ leaves["w1"] + leaves["b1"])
    ref = F.cross_entropy(h @ leaves["w2"] + leaves["b2"], y)
    ref = ref + 0.05 * ((leaves["w1"] ** 2).sum() + (leaves["w2"] ** 2).sum())
    ref_grads = torch.autograd.grad(ref, list(leaves.values()))
    assert abs(loss.item() - ref.item()) <= 1e-12
    assert_grads_match([grads[k] for k in leaves], ref_grads)


def test_train_mlp_learns_a_mnist_subset_quickly():
    from course.data import load_mnist

    (xtr, ytr), (xte, yte) = load_mnist()
    logs = []
    net = S.train_mlp(xtr[:6000], ytr[:6000], hidden=64, epochs=4, batch_size=64, max_steps=300,
                      validation_data=(xte[:2000], yte[:2000]), device="cpu", seed=0,
                      on_epoch_end=lambda epoch, l: logs.append(l))
    h = net.history
    assert len(logs) == len(h["loss"]) == 4  # 4 × 94 steps, stopped at 300
    assert h["loss"][-1] < 0.6 * h["loss"][0]
    assert h["val_accuracy"][-1] >= 0.88
    assert net.predict(xte[:10]).shape == (10,)
    # the same seed gives the same network
    again = S.train_mlp(xtr[:640], ytr[:640], hidden=16, epochs=1, batch_size=64, device="cpu", seed=5)
    twice = S.train_mlp(xtr[:640], ytr[:640], hidden=16, epochs=1, batch_size=64, device="cpu", seed=5)
    assert all(torch.equal(again.params[k], twice.params[k]) for k in again.params)


@pytest.mark.slow
def test_train_mlp_reaches_97_percent_on_mnist():
    from course.data import load_mnist

    (xtr, ytr), (xte, yte) = load_mnist()
    start = time.perf_counter()
    net = S.train_mlp(xtr, ytr, hidden=256, epochs=10, lr=0.1, momentum=0.9, batch_size=128, seed=0)
    seconds = time.perf_counter() - start
    loss, acc = net.evaluate(xte, yte)
    print(f"scratch MLP: test accuracy {acc:.4f}, test loss {loss:.4f}, {seconds:.1f} s on {net.device}")
    assert acc >= 0.97
