"""Checks for lesson 02, graphs and sessions: a graph with a placeholder, running a session,
seed003's forward pass, and a gradient-descent step built from `tf.gradients`; two conceptual questions
and a planted-bug outcome task (a training loop that never fetches its update op).

A probe on the learner's side (course.exercises.probes) builds the learner's graph in a fresh
`course.graph.Graph`, runs it in a `Session` and reports types, names, shapes and values; the checks
compare those with numpy (float64), torch autograd or the numbers real TensorFlow printed for
seed003 -- never with the graph engine's own answer.
"""
import numpy as np
import torch

from course.exercises.expect import CheckFailure, describe, expect, expect_close, say
from course.exercises.forbidden import Forbid
from course.exercises.outcome import outcome_task
from course.exercises.questions import question
from course.exercises.registry import exercise
from course.exercises.remote import LearnerError, probe
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
    why=say("Exercise 2.1 only builds the graph; running it (a Session) is the caller's part.",
            "练习 2.1 只构建计算图；运行它（会话 Session）是调用者的事。")))
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
        expect(r["pair"], en=f"{what}: return a pair (y, feed_dict); got {r['out']}.",
               zh=f"{what}：应返回一个二元组 (y, feed_dict)；得到 {r['out']}。")
        if not r["y"]["tensor"]:
            raise CheckFailure(en=f"{what}: y should be the symbolic graph Tensor (the fetch), not a computed value; "
                                  f"got {r['y_repr']}. Build it with graph ops (x * x, tf.multiply, ...) and do not "
                                  f"call sess.run inside the function.",
                               zh=f"{what}：y 应是计算图中的符号张量（要取回的 fetch），而不是算好的值；得到 "
                                  f"{r['y_repr']}。"
                                  "请用图操作（x * x、tf.multiply 等）构建它，不要在函数里调用 sess.run。")
        expect(r["same_graph"], en=f"{what}: y was built in another graph; build it in the default graph "
                                   f"(do not create a tf.Graph() inside the function).",
               zh=f"{what}：y 建在了另一个计算图里；请在默认计算图中构建它（不要在函数里创建 tf.Graph()）。")
        expect(r["feed_ok"],
               en=f"{what}: feed_dict should be a dict with one entry {{x: x_values}}; got {r['feed_repr']}.",
               zh=f"{what}：feed_dict 应是只有一项 {{x: x_values}} 的字典；得到 {r['feed_repr']}。")
        x = r["x"]
        if not x["tensor"] or x["op_type"] != "Placeholder":
            kind = x["op_type"] if x["tensor"] else x["class"]
            raise CheckFailure(en=f"{what}: the feed_dict key should be the tf.placeholder x; got a {kind}. Create "
                                  f"x = tf.placeholder(tf.float32, shape=(None,), name='x') and use it as the key.",
                               zh=f"{what}：feed_dict 的键应是占位符 x（tf.placeholder）；得到的是 {kind}。请创建 "
                                  f"x = tf.placeholder(tf.float32, shape=(None,), name='x') 并用它作键。")
        expect(x["dtype"] == "float32", en=f"{what}: the placeholder should be float32; it is {x['dtype']}.",
               zh=f"{what}：占位符的数据类型应为 float32；现在是 {x['dtype']}。")
        expect(x["shape"] == [None],
               en=f"{what}: the placeholder's shape should be (None,) -- any number of values; got "
                  f"{x['shape']}. Pass shape=(None,) (or [None]).",
               zh=f"{what}：占位符的形状应为 (None,)——可以容纳任意个值；得到 {x['shape']}。"
                  f"请传入 shape=(None,)（或 [None]）。")
        xv = np.asarray(r["fed"], dtype=np.float64)
        expect(xv.shape == (len(xs),) and np.allclose(xv, xs),
               en=f"{what}: feed_dict should feed x_values to x; it feeds {describe(r['fed'])}.",
               zh=f"{what}：feed_dict 应把 x_values 馈送给 x；它馈送的是 {describe(r['fed'], lang='zh')}。")
        expect("run_error" not in r, en=f"{what}: running y in a session raised {r.get('run_error')}.",
               zh=f"{what}：在会话中运行 y 时抛出了 {r.get('run_error')}。")
        xv = np.array(xs, dtype=np.float64)
        expect_close(np.asarray(r["got"], dtype=np.float64), a * xv ** 2 + b * xv + c, what=what, kind="numpy",
                     rtol=1e-5, atol=1e-5, check_dtype=False)
        xo = other.astype(np.float64)
        expect_close(np.asarray(r["again"], dtype=np.float64), a * xo ** 2 + b * xo + c, kind="numpy",
                     what=say(f"{what}, then the same y run with x fed {xo.tolist()} (y must be computed from the "
                              f"placeholder, not from x_values baked into the graph)",
                              f"{what}，然后给 x 馈送 {xo.tolist()} 再运行同一个 y（y 必须由占位符计算，"
                              f"而不是由写死在计算图里的 x_values 计算）"),
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
            first = exc.message.splitlines()[0]
            raise CheckFailure(en=f"evaluate(...) raised FailedPreconditionError ({first}): run "
                                  f"tf.global_variables_initializer() in the new session before fetching.",
                               zh=f"evaluate(...) 抛出了 `FailedPreconditionError`（`{first}`）：请在新会话中先运行 "
                                  f"tf.global_variables_initializer()，再取回结果。") from None
        raise
    expect_close(np.asarray(r["sum"]), np.array([4.0, 6.0], dtype=np.float32), kind="numpy",
                 what=say("evaluate(a + b) with a = [1, 2], b = [3, 4] (no variables, no feed)",
                          "evaluate(a + b)，其中 a = [1, 2]，b = [3, 4]（没有变量，也没有馈送）"))
    wv = np.array([[1.0, -2.0], [0.5, 3.0]])
    expect_close(np.asarray(r["matmul"], dtype=np.float64), xv.astype(np.float64) @ wv, kind="numpy",
                 check_dtype=False, what=say("evaluate(tf.matmul(x, w), {x: X}) with a Variable w",
                                             "evaluate(tf.matmul(x, w), {x: X})，其中 w 是变量"), inputs={"X": xv})
    got = r["pair"]
    expect(r["pair_is_list"] and len(got) == 2,
           en=f"evaluate([y, w], feed_dict) should return a list of two values, as sess.run does; got {describe(got)}.",
           zh=f"evaluate([y, w], feed_dict) 应像 sess.run 一样返回含两个值的列表；得到 {describe(got, lang='zh')}。")
    expect_close(np.asarray(got[1], dtype=np.float64), wv,
                 what=say("evaluate([y, w], ...)[1] (the value of w)", "evaluate([y, w], ...)[1]（w 的值）"),
                 kind="numpy", check_dtype=False)
    first, second = r["counter"]
    expect(np.isclose(float(first), 1.0) and np.isclose(float(second), 1.0),
           en=f"evaluate(counter.assign_add(1.0)) called twice on a counter that starts at 0 returned {first} and "
              f"{second}; expected 1.0 both times: each call opens a new Session and initialises the variables, so "
              f"state does not carry over from one call to the next.",
           zh=f"对一个从 0 开始的计数器调用两次 evaluate(counter.assign_add(1.0))，返回了 {first} 和 {second}；"
              f"期望两次都是 1.0：每次调用都会打开新的会话并初始化变量，所以状态不会从一次调用带到下一次。")


# -- 2.3 ------------------------------------------------------------------------------------------------
@exercise("2.3", name="seed003_forward", points=3)
def _check_seed003_forward(seed003_forward):
    """seed003's forward graph: w1, w2 from tf.random_normal(seed=1), x placeholder 'x-input', y = x w1 w2."""
    X = np.random.RandomState(1).rand(5, 2).astype(np.float32)     # seed003's first five inputs
    r = probe("probe_seed003_forward", seed003_forward, X)
    where = "seed003_forward()"
    expect(r["four"], en=f"{where} should return a tuple (x, w1, w2, y); got {r['out']}.",
           zh=f"{where} 应返回元组 (x, w1, w2, y)；得到 {r['out']}。")
    x, y = r["x"], r["y"]
    for i, name in ((1, "w1"), (2, "w2")):
        expect(r[name]["variable"],
               en=f"{where}: {name} should be a tf.Variable; got {r['reprs'][i]}. "
                  f"Wrap the initial value: tf.Variable(tf.random_normal(...)).",
               zh=f"{where}：{name} 应是变量 tf.Variable；得到 {r['reprs'][i]}。"
                  f"请把初始值包起来：tf.Variable(tf.random_normal(...))。")
    expect(x["tensor"] and x["op_type"] == "Placeholder",
           en=f"{where}: x should be a tf.placeholder; got {r['reprs'][0]}.",
           zh=f"{where}：x 应是占位符 tf.placeholder；得到 {r['reprs'][0]}。")
    expect(x["op_name"] == "x-input",
           en=f"{where}: name the placeholder 'x-input' as the seed does; its name is {x['op_name']!r}.",
           zh=f"{where}：请像种子程序那样把占位符命名为 'x-input'；它现在的名字是 {x['op_name']!r}。")
    expect(x["shape"] == [None, 2] and x["dtype"] == "float32",
           en=f"{where}: x should be float32 of shape (None, 2); got {x['dtype']} {x['shape']}.",
           zh=f"{where}：x 应是形状为 (None, 2) 的 float32；得到 {x['dtype']} {x['shape']}。")
    expect(y["tensor"], en=f"{where}: y should be a graph Tensor; got {r['reprs'][3]}.",
           zh=f"{where}：y 应是计算图中的张量；得到 {r['reprs'][3]}。")
    expect(y["shape"] == [None, 1], en=f"{where}: y should have the static shape (None, 1); got {y['shape']}.",
           zh=f"{where}：y 的静态形状应为 (None, 1)；得到 {y['shape']}。")
    for name, want, shape in (("w1", TF_SEED003_W1, "[2, 3]"), ("w2", TF_SEED003_W2, "[3, 1]")):
        got = np.asarray(r[f"{name}_value"], dtype=np.float32)
        if got.shape == want.shape and not np.allclose(got, want, atol=1e-5):
            raise CheckFailure(en=f"{where}: the initial value of {name} is {_fmt(got)}, but "
                                  f"TensorFlow's is {_fmt(want)}. Draw it with tf.random_normal({shape}, stddev=1, "
                                  f"seed=1), and do not set a graph-level seed (tf.set_random_seed).",
                               zh=f"{where}：{name} 的初始值是 {_fmt(got)}，而 TensorFlow 的是 {_fmt(want)}。"
                                  f"请用 tf.random_normal({shape}, stddev=1, seed=1) 生成它，"
                                  f"并且不要设置图级随机种子（tf.set_random_seed）。")
        expect_close(got, want, what=say(f"the initial value of {name}", f"{name} 的初始值"), kind="numpy", atol=1e-5)
    expected = X.astype(np.float64) @ TF_SEED003_W1.astype(np.float64) @ TF_SEED003_W2.astype(np.float64)
    expect_close(np.asarray(r["y_value"], dtype=np.float64), expected,
                 what=say("y = x w1 w2 on seed003's first 5 inputs", "y = x w1 w2（在 seed003 的前 5 个输入上）"),
                 inputs={"x": X}, kind="numpy", rtol=1e-5, atol=1e-5, check_dtype=False)
    expect(r["one_shape"] == [1, 1],
           en=f"{where}: y for a batch of 1 should have shape (1, 1); got {tuple(r['one_shape'])}.",
           zh=f"{where}：大小为 1 的批次得到的 y 形状应为 (1, 1)；得到 {tuple(r['one_shape'])}。")


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
                   why=say("Exercise 2.4 builds the update itself: a tf.train optimizer is not allowed (it is what "
                           "tf.train.GradientDescentOptimizer(lr).minimize(loss) builds for you); use "
                           "tf.gradients and tf.assign_sub.",
                           "练习 2.4 要自己构建更新操作：不能使用 tf.train 中的优化器（那正是 "
                           "tf.train.GradientDescentOptimizer(lr).minimize(loss) 替你构建的东西）；"
                           "请使用 tf.gradients 和 tf.assign_sub。"))


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
        (say("a linear regression loss mean((x W + b - y)^2), lr=0.1",
             "线性回归的损失函数 mean((x W + b - y)^2)（lr=0.1）"),
         {"W": rng.randn(3, 1).round(2), "b": rng.randn(1).round(2)}, "linear", torch_linear, lin_batches, 0.1, 3),
        (say("a 2-3-1 sigmoid network with a squared error, lr=0.5",
             "使用平方误差的 2-3-1 sigmoid 网络（lr=0.5）"),
         {"W1": rng.randn(2, 3), "W2": rng.randn(3, 1)}, "net", torch_net, net_batches, 0.5, 2),
    ]
    for label, init, loss_name, torch_loss, batches, lr, n_in in cases:
        try:
            r = probe("probe_sgd_step_op", sgd_step_op, loss_name, init, n_in, lr, batches)
        except (TypeError, ValueError, AttributeError) as exc:
            if "None" not in str(exc):
                raise
            raised = f"{type(exc).__name__.replace('Learner', '')}: {exc}"
            raise CheckFailure(en=f"sgd_step_op on {label.en}: your code raised {raised}. var_list holds a variable "
                                  f"the loss does not use, and tf.gradients returns None for it: skip the pairs whose "
                                  f"gradient is None.",
                               zh=f"sgd_step_op（{label.zh}）：你的代码抛出了 `{raised}`。"
                                  "var_list 中有一个损失没有用到的"
                                  f"变量，tf.gradients 对它返回 None：请跳过梯度为 None 的那些对。") from None
        expect(r["op"]["fetchable"],
               en=f"sgd_step_op(loss, var_list, {lr}) on {label.en}: return an op (or tensor) that "
                  f"sess.run can run; got {r['op_repr']}.",
               zh=f"sgd_step_op(loss, var_list, {lr})（{label.zh}）：应返回 sess.run 能运行的操作（或张量）；"
                  f"得到 {r['op_repr']}。")
        if any(t.startswith("Apply") for t in r["new_types"]):
            raise CheckFailure(en=f"sgd_step_op on {label.en}: you used a tf.train optimizer; build the update "
                                  f"yourself from tf.gradients(loss, var_list) and tf.assign_sub(v, lr * g).",
                               zh=f"sgd_step_op（{label.zh}）：你用了 tf.train 中的优化器；请自己用 "
                                  f"tf.gradients(loss, var_list) 和 tf.assign_sub(v, lr * g) 构建更新。")
        expected = _torch_sgd(init, batches, torch_loss, lr, 3)
        expect(len(r["steps"]) == 3, en=f"sgd_step_op on {label.en}: the op did not run three times.",
               zh=f"sgd_step_op（{label.zh}）：这个操作没有运行三次。")
        for step in range(3):
            values, unused_value = r["steps"][step]["values"], r["steps"][step]["unused"]
            for k, want in expected[step].items():
                got = np.asarray(values[k], dtype=np.float64)
                before = init[k] if step == 0 else expected[step - 1][k]
                what = say(f"{k} after {step + 1} run(s) of your op on {label.en}",
                           f"你的操作运行 {step + 1} 次后的 {k}（{label.zh}）")
                if step == 0 and np.allclose(got, before, atol=1e-7) and not np.allclose(want, before):
                    raise CheckFailure(en=f"{what.en}: unchanged; the op must assign the new values "
                                          f"(tf.assign_sub(v, lr * g), combined with tf.group).",
                                       zh=f"{what.zh}：没有变化；这个操作必须赋上新值"
                                          f"（tf.assign_sub(v, lr * g)，再用 tf.group 组合起来）。")
                if step == 0 and np.allclose(got - before, -(want - before), rtol=1e-3, atol=1e-6):
                    raise CheckFailure(en=f"{what.en}: it moved uphill; gradient descent subtracts lr * gradient.",
                                       zh=f"{what.zh}：它朝上坡方向移动了；梯度下降应减去 lr * 梯度。")
                expect_close(got, want, what=what, kind="numpy", rtol=1e-4, atol=1e-5, check_dtype=False)
            expect(np.allclose(unused_value, [1.0, 2.0]),
                   en=f"on {label.en}: var_list holds a variable the loss does not use; tf.gradients gives None for "
                      f"it and it must stay [1, 2]; it is {np.asarray(unused_value).tolist()}.",
                   zh=f"{label.zh}：var_list 中有一个损失没有用到的变量；tf.gradients 对它给出 None，"
                      f"它必须保持 [1, 2]；现在是 {np.asarray(unused_value).tolist()}。")


# -- Check your understanding: questions (keys in the instructor's checks file) and a planted bug ---
question("2.5", name="answer_2_5", points=1, kind="choice", choices="abcd")
question("2.6", name="answer_2_6", points=1, kind="number")
outcome_task("2.7", name="train_graph", points=3, order="given",
             practice={"target": 0.8, "seconds": 6, "n_train": 2000, "n_test": 1000})
