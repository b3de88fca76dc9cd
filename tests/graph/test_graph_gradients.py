"""Symbolic gradients (`tf.gradients`, built as graph ops) against torch autograd on the same maths.

Each case builds f(inputs) twice: as a graph (placeholders, our ops) and as plain torch code with
`requires_grad`. The graph's gradient of sum(f · R) for a fixed random R must equal autograd's.
Everything is float64 so that the comparison is tight.
"""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import course.tf.compat.v1 as tf

D = torch.float64


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def tf_same_pad(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def t_conv(x, w, s, padding):
    """TF's conv2d in plain torch: NHWC x, HWIO w, explicit TF padding."""
    if padding == "SAME":
        (t, b), (le, r) = tf_same_pad(x.shape[1], w.shape[0], s), tf_same_pad(x.shape[2], w.shape[1], s)
        x = F.pad(x, (0, 0, le, r, t, b))
    return F.conv2d(x.permute(0, 3, 1, 2), w.permute(3, 2, 0, 1), stride=s).permute(0, 2, 3, 1)


def t_pool(x, k, s, padding, kind):
    n = x.permute(0, 3, 1, 2)
    if padding == "SAME":
        (t, b), (le, r) = tf_same_pad(x.shape[1], k, s), tf_same_pad(x.shape[2], k, s)
        if kind == "max":
            n = F.pad(n, (le, r, t, b), value=-math.inf)
            return F.max_pool2d(n, k, s).permute(0, 2, 3, 1)
        summed = F.avg_pool2d(F.pad(n, (le, r, t, b)), k, s, divisor_override=1)
        count = F.avg_pool2d(F.pad(torch.ones_like(n), (le, r, t, b)), k, s, divisor_override=1)
        return (summed / count).permute(0, 2, 3, 1)
    pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    return pool(n, k, s).permute(0, 2, 3, 1)


CASES = {
    # name: (input shapes, graph builder, torch reference)
    "add_broadcast": ([(3, 4), (4,)], lambda a, b: a + b, lambda a, b: a + b),
    "sub_column": ([(3, 4), (3, 1)], lambda a, b: a - b, lambda a, b: a - b),
    "mul_div": ([(3, 4), (1, 4)], lambda a, b: a * b / (tf.square(b) + 1.0), lambda a, b: a * b / (b * b + 1)),
    "max_min": ([(5,), (5,)], lambda a, b: tf.maximum(a, b) * tf.minimum(a, 2 * b),
                lambda a, b: torch.maximum(a, b) * torch.minimum(a, 2 * b)),
    "clip": ([(10,)], lambda a: tf.clip_by_value(a, -0.5, 0.7), lambda a: torch.clamp(a, -0.5, 0.7)),
    "unary": ([(6,)], lambda a: tf.exp(a) + tf.log(tf.abs(a) + 1) + tf.sqrt(tf.square(a) + 1) - tf.rsqrt(a * a + 2)
              + tf.reciprocal(a * a + 3) - tf.log1p(tf.abs(a)) + tf.pow(tf.abs(a) + 1, 1.5),
              lambda a: a.exp() + (a.abs() + 1).log() + (a * a + 1).sqrt() - (a * a + 2).rsqrt() + 1 / (a * a + 3)
              - a.abs().log1p() + (a.abs() + 1) ** 1.5),
    "matmul": ([(3, 4), (4, 2)], lambda a, b: tf.matmul(a, b), lambda a, b: a @ b),
    "matmul_ta": ([(4, 3), (4, 2)], lambda a, b: tf.matmul(a, b, transpose_a=True), lambda a, b: a.T @ b),
    "matmul_tb": ([(3, 4), (2, 4)], lambda a, b: tf.matmul(a, b, transpose_b=True), lambda a, b: a @ b.T),
    "matmul_tab": ([(4, 3), (2, 4)], lambda a, b: tf.matmul(a, b, True, True), lambda a, b: a.T @ b.T),
    "batch_matmul": ([(2, 3, 4), (4, 5)], lambda a, b: tf.matmul(a, b), lambda a, b: a @ b),
    "reductions": ([(3, 4, 2)], lambda a: tf.reduce_sum(a, 1, keepdims=True) * 2 + tf.reduce_mean(a, axis=[0, 2],
                                                                                                   keepdims=True)
                   + tf.reduce_max(a, -1, keepdims=True) + tf.reduce_min(a) + tf.reduce_mean(a)
                   + tf.reduce_sum(a, reduction_indices=[0, 1]) + tf.reduce_max(a, 0),
                   lambda a: a.sum(1, keepdim=True) * 2 + a.mean((0, 2), keepdim=True) + a.amax(-1, keepdim=True)
                   + a.min() + a.mean() + a.sum((0, 1)) + a.amax(0)),
    "activations": ([(4, 5)], lambda a: tf.nn.relu(a) + tf.nn.sigmoid(a) + tf.nn.tanh(a) + tf.nn.elu(a)
                    + tf.nn.softplus(a) + tf.nn.leaky_relu(a, 0.1) + tf.nn.relu6(3 * a),
                    lambda a: F.relu(a) + torch.sigmoid(a) + torch.tanh(a) + F.elu(a) + F.softplus(a)
                    + F.leaky_relu(a, 0.1) + F.relu6(3 * a)),
    "softmaxes": ([(4, 5)], lambda a: tf.nn.softmax(a) * tf.nn.log_softmax(a) + tf.nn.softmax(a, axis=0),
                  lambda a: a.softmax(-1) * a.log_softmax(-1) + a.softmax(0)),
    "shapes": ([(2, 6), (2, 6)], lambda a, b: tf.concat([tf.reshape(a, [3, 4]), tf.transpose(tf.reshape(b, [4, 3]))], 0)
               [1:, ::2] * tf.squeeze(tf.expand_dims(tf.stack([a, b], 1), 0))[0, 1, :2],
               lambda a, b: torch.cat([a.reshape(3, 4), b.reshape(4, 3).T], 0)[1:, ::2]
                   * torch.stack([a, b], 1)[0, 1, :2]),
    "where": ([(6,), (6,)], lambda a, b: tf.where(a > b, a * a, b * 3), lambda a, b: torch.where(a > b, a * a, b * 3)),
    "bias_l2": ([(3, 4), (4,)], lambda a, b: tf.nn.bias_add(a, b) * tf.nn.l2_loss(a),
                lambda a, b: (a + b) * (a * a).sum() / 2),
    "softmax_ce_v2": ([(4, 5), (4, 5)], lambda a, b: tf.nn.softmax_cross_entropy_with_logits_v2(
        labels=tf.nn.softmax(b), logits=a), lambda a, b: -(b.softmax(-1) * a.log_softmax(-1)).sum(-1)),
    "sigmoid_ce": ([(4, 5), (4, 5)], lambda a, b: tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.nn.sigmoid(b),
                                                                                          logits=a),
                   lambda a, b: F.binary_cross_entropy_with_logits(a, torch.sigmoid(b), reduction="none")),
    "conv_same": ([(2, 7, 7, 3), (3, 3, 3, 4)], lambda x, w: tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME"),
                  lambda x, w: t_conv(x, w, 1, "SAME")),
    "conv_same_stride2_even": ([(2, 8, 7, 2), (4, 4, 2, 3)], lambda x, w: tf.nn.conv2d(x, w, [1, 2, 2, 1], "SAME"),
                               lambda x, w: t_conv(x, w, 2, "SAME")),
    "conv_valid_stride2": ([(2, 9, 9, 2), (3, 3, 2, 3)], lambda x, w: tf.nn.conv2d(x, w, [1, 2, 2, 1], "VALID"),
                           lambda x, w: t_conv(x, w, 2, "VALID")),
    "max_pool_same": ([(2, 7, 7, 3)], lambda x: tf.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "SAME"),
                      lambda x: t_pool(x, 2, 2, "SAME", "max")),
    "max_pool_valid": ([(2, 8, 8, 3)], lambda x: tf.nn.max_pool(x, [1, 3, 3, 1], [1, 2, 2, 1], "VALID"),
                       lambda x: t_pool(x, 3, 2, "VALID", "max")),
    "avg_pool_same": ([(2, 7, 7, 3)], lambda x: tf.nn.avg_pool(x, [1, 3, 3, 1], [1, 2, 2, 1], "SAME"),
                      lambda x: t_pool(x, 3, 2, "SAME", "avg")),
    "avg_pool_valid": ([(2, 8, 8, 3)], lambda x: tf.nn.avg_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID"),
                       lambda x: t_pool(x, 2, 2, "VALID", "avg")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_torch_autograd(name):
    shapes, build, reference = CASES[name]
    rng = np.random.RandomState(sum(map(ord, name)))
    values = [rng.randn(*s) for s in shapes]
    g = tf.Graph()
    with g.as_default():
        xs = [tf.placeholder(tf.float64, s) for s in shapes]
        out = build(*xs)
        r = rng.randn(*out.shape.as_list())
        loss = tf.reduce_sum(out * r)
        grads = tf.gradients(loss, xs)
        with tf.Session() as sess:
            got = sess.run(grads, feed_dict=dict(zip(xs, values)))
    ts = [torch.tensor(v, dtype=D, requires_grad=True) for v in values]
    (reference(*ts) * torch.tensor(r, dtype=D)).sum().backward()
    for mine, t in zip(got, ts):
        np.testing.assert_allclose(mine, t.grad.numpy(), rtol=1e-9, atol=1e-11)


def test_sparse_softmax_cross_entropy_gradient():
    g = tf.Graph()
    with g.as_default():
        logits = tf.placeholder(tf.float64, (4, 5))
        labels = tf.placeholder(tf.int64, (4,))
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
        (grad,) = tf.gradients(loss, [logits])
        values = np.random.RandomState(1).randn(4, 5)
        with tf.Session() as sess:
            lv, gv = sess.run([loss, grad], feed_dict={logits: values, labels: [0, 3, 4, 1]})
    t = torch.tensor(values, requires_grad=True)
    ref = F.cross_entropy(t, torch.tensor([0, 3, 4, 1]))
    ref.backward()
    np.testing.assert_allclose(lv, ref.item(), rtol=1e-12)
    np.testing.assert_allclose(gv, t.grad.numpy(), rtol=1e-10)


def test_gradient_flows_through_every_read_of_a_variable_and_sums():
    g = tf.Graph()
    with g.as_default():
        w = tf.Variable(3.0, dtype=tf.float64)
        y = w * w + tf.identity(w.read_value()) * 2
        dw, none = tf.gradients(y, [w, tf.constant(1.0, tf.float64)])
        assert none is None                                  # unconnected -> None, as in TF
        with tf.Session() as sess:
            sess.run(w.initializer)
            assert sess.run(dw) == 8.0                        # 2w + 2


def test_stop_gradient_and_grad_ys():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, (3,))
        y = x * tf.stop_gradient(x)
        (gx,) = tf.gradients(y, [x], grad_ys=[tf.constant([1.0, 2.0, 3.0])])
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(gx, {x: [1.0, 1.0, 2.0]}), [1.0, 2.0, 6.0])


def test_the_backward_is_in_the_graph_before_anything_runs():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, (None, 2))
        w = tf.Variable(tf.zeros([2, 1]))
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w)))
        n_before = len(g.get_operations())
        (dw,) = tf.gradients(loss, [w])
        new = g.get_operations()[n_before:]
    assert dw.op.type == "MatMul" and dw.op.name.startswith("gradients/")
    assert {op.type for op in new} >= {"ReduceGrad", "MatMul", "Mul"}
    assert all(op.name.startswith("gradients/") for op in new)


def test_no_gradient_function_is_reported():
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, (3,))
        y = tf.cast(tf.argmax(tf.reshape(x, [1, 3]), 1), tf.float32)
        assert tf.gradients(y, [x]) == [None]                # integer paths carry no gradient
