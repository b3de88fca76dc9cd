"""Checks for lesson 02, graphs and sessions: a graph with a placeholder, running a session,
seed003's forward pass, and a gradient-descent step built from `tf.gradients`.

A probe on the learner's side (course.exercises.probes) builds the learner's graph in a fresh
`course.graph.Graph`, runs it in a `Session` and reports types, names, shapes and values; the checks
compare those with numpy (float64), torch autograd or the numbers real TensorFlow printed for
seed003 -- never with the graph engine's own answer.
"""
import numpy as np
import torch

from course.exercises.expect import CheckFailure, describe, expect, expect_close
from course.exercises.fixtures import probe
from course.exercises.forbidden import Forbid
from course.exercises.registry import exercise
from course.exercises.remote import LearnerError
from course.exercises.seeding import numpy_rng

__all__ = ["TF_SEED003_W1", "TF_SEED003_W2"]

# What TensorFlow prints for seed003's `sess.run(w1)` / `sess.run(w2)` (tf.random_normal with seed=1).
TF_SEED003_W1 = np.array([[-0.8113182, 1.4845988, 0.06532937],
                          [-2.4427042, 0.0992484, 0.5912243]], dtype=np.float32)      # (2, 3)
TF_SEED003_W2 = np.array([[-0.8113182], [1.4845988], [0.06532937]], dtype=np.float32)  # (3, 1)


def _fmt(a):
    """A small float32 array as TensorFlow prints its values: [[-0.8113182, 1.4845988], ...]."""
    a = np.asarray(a, dtype=np.float32)
    return "[" + ", ".join("[" + ", ".join(str(v) for v in row) + "]" for row in a.reshape(len(a), -1)) + "]"


# -- 2.1 ------------------------------------------------------------------------------------------------
@exercise("2.1", name="quadratic_graph", points=2, forbid=Forbid(
    names=("course.tf.compat.v1.Session", "course.tf.compat.v1.InteractiveSession", "course.graph.Session",
           "course.graph.InteractiveSession", "course.tf.Session"),
    why="Exercise 2.1 only builds the graph; running it (a Session) is the caller's part."))
def _check_quadratic_graph(quadratic_graph):
    """(y, feed_dict) with y = a x^2 + b x + c, x a float32 placeholder of shape (None,)."""
    rng = numpy_rng(21)
    cases = [(1.0, -2.0, 0.5, [0.0, 1.0, 2.0, 3.0]), (-3.0, 0.5, 2.0, [-1.5, 10.0]), (0.0, 0.0, 0.0, [4.0]),
             (2.0, 0.0, -1.0, [0.25, -0.25, 7.0, -7.0, 0.0]),
             tuple(float(v) for v in rng.uniform(-3, 3, 3).round(2)) + (rng.uniform(-5, 5, 3).round(2).tolist(),)]
    other = rng.uniform(-4, 4, 3).round(2).astype(np.float32)           # y must depend on what is fed
    for a, b, c, xs in cases:
        what = f"quadratic_graph({a}, {b}, {c}, x_values={xs})"
        r = probe("probe_quadratic_graph", quadratic_graph, a, b, c, xs, other)
        expect(r["pair"], f"{what}: return a pair (y, feed_dict); got {r['out']}.")
        if not r["y"]["tensor"]:
            raise CheckFailure(f"{what}: y should be the symbolic graph Tensor (the fetch), not a computed value; got "
                               f"{r['y_repr']}. Build it with graph ops (x * x, tf.multiply, ...) and do not call "
                               f"sess.run inside the function.")
        expect(r["same_graph"], f"{what}: y was built in another graph; build it in the default graph "
                                f"(do not create a tf.Graph() inside the function).")
        expect(r["feed_ok"],
               f"{what}: feed_dict should be a dict with one entry {{x: x_values}}; got {r['feed_repr']}.")
        x = r["x"]
        if not x["tensor"] or x["op_type"] != "Placeholder":
            kind = x["op_type"] if x["tensor"] else x["class"]
            raise CheckFailure(f"{what}: the feed_dict key should be the tf.placeholder x; got a {kind}. Create "
                               f"x = tf.placeholder(tf.float32, shape=(None,), name='x') and use it as the key.")
        expect(x["dtype"] == "float32", f"{what}: the placeholder should be float32; it is {x['dtype']}.")
        expect(x["shape"] == [None],
               f"{what}: the placeholder's shape should be (None,) -- any number of values; got "
               f"{x['shape']}. Pass shape=(None,) (or [None]).")
        xv = np.asarray(r["fed"], dtype=np.float64)
        expect(xv.shape == (len(xs),) and np.allclose(xv, xs),
               f"{what}: feed_dict should feed x_values to x; it feeds {describe(r['fed'])}.")
        expect("run_error" not in r, f"{what}: running y in a session raised {r.get('run_error')}.")
        xv = np.array(xs, dtype=np.float64)
        expect_close(np.asarray(r["got"], dtype=np.float64), a * xv ** 2 + b * xv + c, what=what, kind="numpy",
                     rtol=1e-5, atol=1e-5, check_dtype=False)
        xo = other.astype(np.float64)
        expect_close(np.asarray(r["again"], dtype=np.float64), a * xo ** 2 + b * xo + c, kind="numpy",
                     what=f"{what}, then the same y run with x fed {xo.tolist()} (y must be computed from the "
                          f"placeholder, not from x_values baked into the graph)",
                     rtol=1e-5, atol=1e-5, check_dtype=False)


# -- 2.2 ------------------------------------------------------------------------------------------------
@exercise("2.2", name="evaluate", points=2)
def _check_evaluate(evaluate):
    """A new Session on the default graph, variables initialised, fetches run with feed_dict."""
    xv = numpy_rng(22).uniform(-3, 3, (3, 2)).round(2).astype(np.float32)
    try:
        r = probe("probe_evaluate", evaluate, xv)
    except LearnerError as exc:
        if exc.remote_type == "FailedPreconditionError":
            raise CheckFailure("evaluate(...) raised FailedPreconditionError (" + exc.message.splitlines()[0] + "): "
                               "run tf.global_variables_initializer() in the new session before fetching.") from None
        raise
    expect_close(np.asarray(r["sum"]), np.array([4.0, 6.0], dtype=np.float32), kind="numpy",
                 what="evaluate(a + b) with a = [1, 2], b = [3, 4] (no variables, no feed)")
    wv = np.array([[1.0, -2.0], [0.5, 3.0]])
    expect_close(np.asarray(r["matmul"], dtype=np.float64), xv.astype(np.float64) @ wv, kind="numpy",
                 check_dtype=False, what="evaluate(tf.matmul(x, w), {x: X}) with a Variable w", inputs={"X": xv})
    got = r["pair"]
    expect(r["pair_is_list"] and len(got) == 2,
           f"evaluate([y, w], feed_dict) should return a list of two values, as sess.run does; got {describe(got)}.")
    expect_close(np.asarray(got[1], dtype=np.float64), wv, what="evaluate([y, w], ...)[1] (the value of w)",
                 kind="numpy", check_dtype=False)
    first, second = r["counter"]
    expect(np.isclose(float(first), 1.0) and np.isclose(float(second), 1.0),
           f"evaluate(counter.assign_add(1.0)) called twice on a counter that starts at 0 returned {first} and "
           f"{second}; expected 1.0 both times: each call opens a new Session and initialises the variables, so "
           f"state does not carry over from one call to the next.")


# -- 2.3 ------------------------------------------------------------------------------------------------
@exercise("2.3", name="seed003_forward", points=3)
def _check_seed003_forward(seed003_forward):
    """seed003's forward graph: w1, w2 from tf.random_normal(seed=1), x placeholder 'x-input', y = x w1 w2."""
    X = np.random.RandomState(1).rand(5, 2).astype(np.float32)     # seed003's first five inputs
    r = probe("probe_seed003_forward", seed003_forward, X)
    expect(r["four"], f"seed003_forward() should return a tuple (x, w1, w2, y); got {r['out']}.")
    x, y = r["x"], r["y"]
    for i, name in ((1, "w1"), (2, "w2")):
        expect(r[name]["variable"], f"seed003_forward(): {name} should be a tf.Variable; got {r['reprs'][i]}. "
                                    f"Wrap the initial value: tf.Variable(tf.random_normal(...)).")
    expect(x["tensor"] and x["op_type"] == "Placeholder",
           f"seed003_forward(): x should be a tf.placeholder; got {r['reprs'][0]}.")
    expect(x["op_name"] == "x-input", f"seed003_forward(): name the placeholder 'x-input' as the seed does; its name "
                                      f"is {x['op_name']!r}.")
    expect(x["shape"] == [None, 2] and x["dtype"] == "float32",
           f"seed003_forward(): x should be float32 of shape (None, 2); got {x['dtype']} {x['shape']}.")
    expect(y["tensor"], f"seed003_forward(): y should be a graph Tensor; got {r['reprs'][3]}.")
    expect(y["shape"] == [None, 1], f"seed003_forward(): y should have the static shape (None, 1); "
                                    f"got {y['shape']}.")
    for name, want, shape in (("w1", TF_SEED003_W1, "[2, 3]"), ("w2", TF_SEED003_W2, "[3, 1]")):
        got = np.asarray(r[f"{name}_value"], dtype=np.float32)
        if got.shape == want.shape and not np.allclose(got, want, atol=1e-5):
            raise CheckFailure(f"seed003_forward(): the initial value of {name} is {_fmt(got)}, but "
                               f"TensorFlow's is {_fmt(want)}. Draw it with tf.random_normal({shape}, stddev=1, "
                               f"seed=1), and do not set a graph-level seed (tf.set_random_seed).")
        expect_close(got, want, what=f"the initial value of {name}", kind="numpy", atol=1e-5)
    expected = X.astype(np.float64) @ TF_SEED003_W1.astype(np.float64) @ TF_SEED003_W2.astype(np.float64)
    expect_close(np.asarray(r["y_value"], dtype=np.float64), expected, what="y = x w1 w2 on seed003's first 5 inputs",
                 inputs={"x": X}, kind="numpy", rtol=1e-5, atol=1e-5, check_dtype=False)
    expect(r["one_shape"] == [1, 1], f"seed003_forward(): y for a batch of 1 should have shape (1, 1); got "
                                     f"{tuple(r['one_shape'])}.")


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


_NO_TRAIN = Forbid(names=("course.tf.compat.v1.train", "course.tf.train", "course.graph.train"),
                   why="Exercise 2.4 builds the update itself: a tf.train optimizer is not allowed (it is what "
                       "tf.train.GradientDescentOptimizer(lr).minimize(loss) builds for you); use "
                       "tf.gradients and tf.assign_sub.")


@exercise("2.4", name="sgd_step_op", points=3, forbid=_NO_TRAIN)
def _check_sgd_step_op(sgd_step_op):
    """One op doing w <- w - lr * d loss / d w for each variable, built from tf.gradients + assign_sub."""
    rng = np.random.RandomState(numpy_rng(24).integers(2**31))
    lin_batches = [(rng.randn(4, 3), rng.randn(4, 1)) for _ in range(3)]
    net_batches = [(rng.rand(5, 2), (rng.rand(5, 1) > 0.5).astype(np.float64)) for _ in range(3)]

    def torch_linear(p, x, y):
        return ((x @ p["W"] + p["b"] - y) ** 2).mean()

    def torch_net(p, x, y):
        return ((torch.sigmoid(torch.sigmoid(x @ p["W1"]) @ p["W2"]) - y) ** 2).mean()

    cases = [
        ("a linear regression loss mean((x W + b - y)^2), lr=0.1",
         {"W": rng.randn(3, 1).round(2), "b": rng.randn(1).round(2)}, "linear", torch_linear, lin_batches, 0.1, 3),
        ("a 2-3-1 sigmoid network with a squared error, lr=0.5",
         {"W1": rng.randn(2, 3), "W2": rng.randn(3, 1)}, "net", torch_net, net_batches, 0.5, 2),
    ]
    for label, init, loss_name, torch_loss, batches, lr, n_in in cases:
        try:
            r = probe("probe_sgd_step_op", sgd_step_op, loss_name, init, n_in, lr, batches)
        except (TypeError, ValueError, AttributeError) as exc:
            if "None" not in str(exc):
                raise
            raise CheckFailure(f"sgd_step_op on {label}: your code raised {type(exc).__name__.replace('Learner', '')}: "
                               f"{exc}. var_list holds a variable the loss does not use, and tf.gradients returns "
                               f"None for it: skip the pairs whose gradient is None.") from None
        expect(r["op"]["fetchable"], f"sgd_step_op(loss, var_list, {lr}) on {label}: return an op (or tensor) that "
                                     f"sess.run can run; got {r['op_repr']}.")
        if any(t.startswith("Apply") for t in r["new_types"]):
            raise CheckFailure(f"sgd_step_op on {label}: you used a tf.train optimizer; build the update yourself "
                               f"from tf.gradients(loss, var_list) and tf.assign_sub(v, lr * g).")
        expected = _torch_sgd(init, batches, torch_loss, lr, 3)
        expect(len(r["steps"]) == 3, f"sgd_step_op on {label}: the op did not run three times.")
        for step in range(3):
            values, unused_value = r["steps"][step]["values"], r["steps"][step]["unused"]
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
