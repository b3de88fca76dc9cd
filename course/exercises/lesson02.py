"""Checks for lesson 02, graphs and sessions: a graph with a placeholder, running a session,
seed003's forward pass, and a gradient-descent step built from `tf.gradients`.

Each check builds the learner's graph in a fresh `course.graph.Graph`, runs it in a `Session`
and compares with numpy (float64), torch autograd or the numbers real TensorFlow printed for
seed003 -- never with the graph engine's own answer.
"""
import numpy as np
import torch

from course.exercises.expect import CheckFailure, describe, expect, expect_close
from course.exercises.registry import exercise

__all__ = ["TF_SEED003_W1", "TF_SEED003_W2"]

# What TensorFlow prints for seed003's `sess.run(w1)` / `sess.run(w2)` (tf.random_normal with seed=1).
TF_SEED003_W1 = np.array([[-0.8113182, 1.4845988, 0.06532937],
                          [-2.4427042, 0.0992484, 0.5912243]], dtype=np.float32)      # (2, 3)
TF_SEED003_W2 = np.array([[-0.8113182], [1.4845988], [0.06532937]], dtype=np.float32)  # (3, 1)


def _graph_module():
    import course.graph
    return course.graph


def _is_graph_tensor(x):
    from course.graph.graph import Tensor
    return isinstance(x, Tensor)


def _is_fetchable(x):
    from course.graph.graph import Operation, Tensor
    from course.graph.variables import Variable
    return isinstance(x, (Tensor, Operation, Variable))


def _shape_list(t):
    shape = t.shape
    return None if shape.rank is None else [d for d in shape]


def _fmt(a):
    """A small float32 array as TensorFlow prints its values: [[-0.8113182, 1.4845988], ...]."""
    a = np.asarray(a, dtype=np.float32)
    return "[" + ", ".join("[" + ", ".join(str(v) for v in row) + "]" for row in a.reshape(len(a), -1)) + "]"


def _run(graph, fetches, feed_dict=None, *, init=True):
    cg = _graph_module()
    with graph.as_default(), cg.Session(graph=graph) as sess:
        if init:
            sess.run(cg.global_variables_initializer())
        return sess.run(fetches, feed_dict)


# -- 2.1 ------------------------------------------------------------------------------------------------
@exercise("2.1", name="quadratic_graph", points=2)
def _check_quadratic_graph(quadratic_graph):
    """(y, feed_dict) with y = a x^2 + b x + c, x a float32 placeholder of shape (None,)."""
    cg = _graph_module()
    cases = [(1.0, -2.0, 0.5, [0.0, 1.0, 2.0, 3.0]), (-3.0, 0.5, 2.0, [-1.5, 10.0]), (0.0, 0.0, 0.0, [4.0]),
             (2.0, 0.0, -1.0, [0.25, -0.25, 7.0, -7.0, 0.0])]
    for a, b, c, xs in cases:
        what = f"quadratic_graph({a}, {b}, {c}, x_values={xs})"
        g = cg.Graph()
        with g.as_default():
            out = quadratic_graph(a, b, c, np.array(xs, dtype=np.float32))
        expect(isinstance(out, tuple) and len(out) == 2,
               f"{what}: return a pair (y, feed_dict); got {describe(out)}.")
        y, feed = out
        if not _is_graph_tensor(y):
            raise CheckFailure(f"{what}: y should be the symbolic graph Tensor (the fetch), not a computed value; got "
                               f"{describe(y)}. Build it with graph ops (x * x, tf.multiply, ...) and do not call "
                               f"sess.run inside the function.")
        expect(y.graph is g, f"{what}: y was built in another graph; build it in the default graph "
                             f"(do not create a tf.Graph() inside the function).")
        expect(isinstance(feed, dict) and len(feed) == 1,
               f"{what}: feed_dict should be a dict with one entry {{x: x_values}}; got {describe(feed)}.")
        (x, fed), = feed.items()
        if not _is_graph_tensor(x) or x.op.type != "Placeholder":
            kind = x.op.type if _is_graph_tensor(x) else type(x).__name__
            raise CheckFailure(f"{what}: the feed_dict key should be the tf.placeholder x; got a {kind}. Create "
                               f"x = tf.placeholder(tf.float32, shape=(None,), name='x') and use it as the key.")
        expect(x.dtype == torch.float32, f"{what}: the placeholder should be float32; it is {x.dtype}.")
        expect(_shape_list(x) == [None],
               f"{what}: the placeholder's shape should be (None,) -- any number of values; got "
               f"{_shape_list(x)}. Pass shape=(None,) (or [None]).")
        xv = np.asarray(fed, dtype=np.float64)
        expect(xv.shape == (len(xs),) and np.allclose(xv, xs),
               f"{what}: feed_dict should feed x_values to x; it feeds {describe(fed)}.")
        got = _run(g, y, feed)
        xv = np.array(xs, dtype=np.float64)
        expect_close(np.asarray(got, dtype=np.float64), a * xv ** 2 + b * xv + c, what=what, kind="numpy",
                     rtol=1e-5, atol=1e-5, check_dtype=False)
        other = np.array([-1.0, 0.5, 3.0], dtype=np.float32)          # y must depend on what is fed
        again = _run(g, y, {x: other})
        xo = other.astype(np.float64)
        expect_close(np.asarray(again, dtype=np.float64), a * xo ** 2 + b * xo + c, kind="numpy",
                     what=f"{what}, then the same y run with x fed [-1, 0.5, 3] (y must be computed from the "
                          f"placeholder, not from x_values baked into the graph)",
                     rtol=1e-5, atol=1e-5, check_dtype=False)


# -- 2.2 ------------------------------------------------------------------------------------------------
def _uninitialised_hint(exc):
    if type(exc).__name__ == "FailedPreconditionError":
        return CheckFailure("evaluate(...) raised FailedPreconditionError (" + str(exc).splitlines()[0] + "): run "
                            "tf.global_variables_initializer() in the new session before fetching.")
    return None


@exercise("2.2", name="evaluate", points=2)
def _check_evaluate(evaluate):
    """A new Session on the default graph, variables initialised, fetches run with feed_dict."""
    cg = _graph_module()
    from course.graph import array_ops, math_ops, variables

    def call(g, fetches, feed=None, label=""):
        with g.as_default():
            try:
                return evaluate(fetches, feed) if feed is not None else evaluate(fetches)
            except Exception as exc:
                hint = _uninitialised_hint(exc)
                if hint is not None:
                    raise hint from None
                raise

    g = cg.Graph()
    with g.as_default():
        a = array_ops.constant([1.0, 2.0], name="a")
        b = array_ops.constant([3.0, 4.0], name="b")
        total = math_ops.add(a, b)
    expect_close(np.asarray(call(g, total)), np.array([4.0, 6.0], dtype=np.float32), kind="numpy",
                 what="evaluate(a + b) with a = [1, 2], b = [3, 4] (no variables, no feed)")

    g = cg.Graph()
    with g.as_default():
        w = variables.Variable(array_ops.constant([[1.0, -2.0], [0.5, 3.0]]), name="w")
        x = array_ops.placeholder(torch.float32, (None, 2), name="x")
        y = math_ops.matmul(x, w)
    xv = np.array([[1.0, 1.0], [2.0, -1.0], [0.0, 4.0]], dtype=np.float32)
    wv = np.array([[1.0, -2.0], [0.5, 3.0]])
    got = call(g, y, {x: xv})
    expect_close(np.asarray(got, dtype=np.float64), xv.astype(np.float64) @ wv, kind="numpy", check_dtype=False,
                 what="evaluate(tf.matmul(x, w), {x: X}) with a Variable w", inputs={"X": xv})
    got = call(g, [y, w], {x: xv[:1]})
    expect(isinstance(got, list) and len(got) == 2,
           f"evaluate([y, w], feed_dict) should return a list of two values, as sess.run does; got {describe(got)}.")
    expect_close(np.asarray(got[1], dtype=np.float64), wv, what="evaluate([y, w], ...)[1] (the value of w)",
                 kind="numpy", check_dtype=False)

    g = cg.Graph()
    with g.as_default():
        counter = variables.Variable(0.0, name="counter")
        step = variables.assign_add(counter, 1.0)
    first, second = call(g, step), call(g, step)
    expect(np.isclose(float(first), 1.0) and np.isclose(float(second), 1.0),
           f"evaluate(counter.assign_add(1.0)) called twice on a counter that starts at 0 returned {first} and "
           f"{second}; expected 1.0 both times: each call opens a new Session and initialises the variables, so "
           f"state does not carry over from one call to the next.")


# -- 2.3 ------------------------------------------------------------------------------------------------
@exercise("2.3", name="seed003_forward", points=3)
def _check_seed003_forward(seed003_forward):
    """seed003's forward graph: w1, w2 from tf.random_normal(seed=1), x placeholder 'x-input', y = x w1 w2."""
    cg = _graph_module()
    g = cg.Graph()
    with g.as_default():
        out = seed003_forward()
    expect(isinstance(out, tuple) and len(out) == 4,
           f"seed003_forward() should return a tuple (x, w1, w2, y); got {describe(out)}.")
    x, w1, w2, y = out
    from course.graph.variables import Variable
    for name, v in (("w1", w1), ("w2", w2)):
        expect(isinstance(v, Variable), f"seed003_forward(): {name} should be a tf.Variable; got {describe(v)}. "
                                        f"Wrap the initial value: tf.Variable(tf.random_normal(...)).")
    expect(_is_graph_tensor(x) and x.op.type == "Placeholder",
           f"seed003_forward(): x should be a tf.placeholder; got {describe(x)}.")
    expect(x.op.name == "x-input", f"seed003_forward(): name the placeholder 'x-input' as the seed does; its name "
                                   f"is {x.op.name!r}.")
    expect(_shape_list(x) == [None, 2] and x.dtype == torch.float32,
           f"seed003_forward(): x should be float32 of shape (None, 2); got {x.dtype} {_shape_list(x)}.")
    expect(_is_graph_tensor(y), f"seed003_forward(): y should be a graph Tensor; got {describe(y)}.")
    expect(_shape_list(y) in ([None, 1],), f"seed003_forward(): y should have the static shape (None, 1); "
                                           f"got {_shape_list(y)}.")
    X = np.random.RandomState(1).rand(5, 2).astype(np.float32)     # seed003's first five inputs
    w1v, w2v, yv = _run(g, [w1, w2, y], {x: X})
    for name, got, want, shape in (("w1", w1v, TF_SEED003_W1, "[2, 3]"), ("w2", w2v, TF_SEED003_W2, "[3, 1]")):
        got = np.asarray(got)
        if got.shape == want.shape and not np.allclose(got, want, atol=1e-5):
            raise CheckFailure(f"seed003_forward(): the initial value of {name} is {_fmt(got)}, but "
                               f"TensorFlow's is {_fmt(want)}. Draw it with tf.random_normal({shape}, stddev=1, "
                               f"seed=1), and do not set a graph-level seed (tf.set_random_seed).")
        expect_close(got, want, what=f"the initial value of {name}", kind="numpy", atol=1e-5)
    expected = X.astype(np.float64) @ TF_SEED003_W1.astype(np.float64) @ TF_SEED003_W2.astype(np.float64)
    expect_close(np.asarray(yv, dtype=np.float64), expected, what="y = x w1 w2 on seed003's first 5 inputs",
                 inputs={"x": X}, kind="numpy", rtol=1e-5, atol=1e-5, check_dtype=False)
    one = _run(g, y, {x: X[:1]})
    expect(np.asarray(one).shape == (1, 1), f"seed003_forward(): y for a batch of 1 should have shape (1, 1); got "
                                            f"{np.asarray(one).shape}.")


# -- 2.4 ------------------------------------------------------------------------------------------------
def _torch_sgd(init, batches, loss_fn, lr, steps):
    """Reference: torch autograd + torch.optim.SGD on float64 copies; the values after each step."""
    params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in init.items()}
    opt = torch.optim.SGD(list(params.values()), lr=lr)
    history = []
    for i in range(steps):
        opt.zero_grad()
        xb, yb = batches[i % len(batches)]
        loss_fn(params, torch.tensor(xb, dtype=torch.float64), torch.tensor(yb, dtype=torch.float64)).backward()
        opt.step()
        history.append({k: p.detach().numpy().copy() for k, p in params.items()})
    return history


@exercise("2.4", name="sgd_step_op", points=3)
def _check_sgd_step_op(sgd_step_op):
    """One op doing w <- w - lr * d loss / d w for each variable, built from tf.gradients + assign_sub."""
    cg = _graph_module()
    from course.graph import array_ops, math_ops, nn_ops, reduce_ops, variables

    rng = np.random.RandomState(24)
    lin_batches = [(rng.randn(4, 3), rng.randn(4, 1)) for _ in range(3)]
    net_batches = [(rng.rand(5, 2), (rng.rand(5, 1) > 0.5).astype(np.float64)) for _ in range(3)]

    def build_linear(v, x, y_):
        pred = math_ops.add(math_ops.matmul(x, v["W"]), v["b"])                       # (N, 1)
        return reduce_ops.reduce_mean(math_ops.square(math_ops.subtract(pred, y_)))

    def torch_linear(p, x, y):
        return ((x @ p["W"] + p["b"] - y) ** 2).mean()

    def build_net(v, x, y_):
        h = nn_ops.sigmoid(math_ops.matmul(x, v["W1"]))                                # (N, 3)
        p = nn_ops.sigmoid(math_ops.matmul(h, v["W2"]))                                # (N, 1)
        return reduce_ops.reduce_mean(math_ops.square(math_ops.subtract(p, y_)))

    def torch_net(p, x, y):
        return ((torch.sigmoid(torch.sigmoid(x @ p["W1"]) @ p["W2"]) - y) ** 2).mean()

    cases = [
        ("a linear regression loss mean((x W + b - y)^2), lr=0.1",
         {"W": np.array([[0.5], [-1.0], [2.0]]), "b": np.array([0.1])}, build_linear, torch_linear, lin_batches,
         0.1, 3),
        ("a 2-3-1 sigmoid network with a squared error, lr=0.5",
         {"W1": rng.randn(2, 3), "W2": rng.randn(3, 1)}, build_net, torch_net, net_batches, 0.5, 2),
    ]
    for label, init, build, torch_loss, batches, lr, n_in in cases:
        g = cg.Graph()
        with g.as_default():
            v = {k: variables.Variable(array_ops.constant(a.astype(np.float32)), name=k) for k, a in init.items()}
            unused = variables.Variable(array_ops.constant(np.float32([1.0, 2.0])), name="unused")
            x = array_ops.placeholder(torch.float32, (None, n_in), name="x")
            y_ = array_ops.placeholder(torch.float32, (None, 1), name="y")
            loss = build(v, x, y_)
            n_before = len(g.get_operations())
            var_list = list(v.values()) + [unused]
            try:
                op = sgd_step_op(loss, var_list, lr)
            except (TypeError, ValueError, AttributeError) as exc:
                if "None" not in str(exc):
                    raise
                raise CheckFailure(f"sgd_step_op on {label}: your code raised {type(exc).__name__}: {exc}. var_list "
                                   f"holds a variable the loss does not use, and tf.gradients returns None for it: "
                                   f"skip the pairs whose gradient is None.") from None
            new_types = {o.type for o in g.get_operations()[n_before:]}
        expect(_is_fetchable(op), f"sgd_step_op(loss, var_list, {lr}) on {label}: return an op (or tensor) that "
                                  f"sess.run can run; got {describe(op)}.")
        if any(t.startswith("Apply") for t in new_types):
            raise CheckFailure(f"sgd_step_op on {label}: you used a tf.train optimizer; build the update yourself "
                               f"from tf.gradients(loss, var_list) and tf.assign_sub(v, lr * g).")
        expected = _torch_sgd(init, batches, torch_loss, lr, 3)
        with g.as_default(), cg.Session(graph=g) as sess:
            sess.run(cg.global_variables_initializer())
            for step in range(3):
                xb, yb = batches[step]
                sess.run(op, {x: xb.astype(np.float32), y_: yb.astype(np.float32)})
                values = sess.run({k: var for k, var in v.items()})
                unused_value = sess.run(unused)
                for k, want in expected[step].items():
                    got = np.asarray(values[k], dtype=np.float64)
                    before = init[k] if step == 0 else expected[step - 1][k]
                    what = f"{k} after {step + 1} run(s) of your op on {label}"
                    if step == 0 and np.allclose(got, before, atol=1e-7) and not np.allclose(want, before):
                        raise CheckFailure(f"{what}: unchanged; the op must assign the new values "
                                           f"(tf.assign_sub(v, lr * g), combined with tf.group).")
                    if step == 0 and np.allclose(got - before, -(want - before), rtol=1e-3, atol=1e-6):
                        raise CheckFailure(f"{what}: it moved uphill; gradient descent subtracts lr * gradient.")
                    expect_close(got, want, what=what, kind="numpy", rtol=1e-4, atol=1e-5, check_dtype=False)
                expect(np.allclose(unused_value, [1.0, 2.0]),
                       f"on {label}: var_list holds a variable the loss does not use; tf.gradients gives None for "
                       f"it and it must stay [1, 2]; it is {np.asarray(unused_value).tolist()}.")
