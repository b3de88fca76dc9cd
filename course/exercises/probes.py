"""Probes: fixtures that run the learner's object in a setting and report what happened as plain data.

Some answers only mean something in a setting the checks cannot send: a TF1 graph and its session
(lesson 2). A probe builds that setting on the learner's side, calls the learner's object there,
and describes the outcome with plain data (types, names, shapes, values). The checks judge the
description; a probe never decides anything, and a tampered probe can only report data that the
checks then compare with their own expected values.
"""
from __future__ import annotations

import numpy as np

from course.exercises.fixtures import builder

__all__ = []


def _graph():
    import course.graph
    return course.graph


def _kind(x) -> dict:
    """What a graph-mode object is: its class, and for a tensor its op type, name, dtype, shape."""
    from course.graph.graph import Operation, Tensor
    from course.graph.variables import Variable
    info = {"class": type(x).__name__, "tensor": isinstance(x, Tensor), "variable": isinstance(x, Variable),
            "fetchable": isinstance(x, (Tensor, Operation, Variable))}
    if isinstance(x, Tensor):
        shape = x.shape
        info.update(op_type=x.op.type, op_name=x.op.name, dtype=str(x.dtype).replace("torch.", ""),
                    shape=None if shape.rank is None else [d for d in shape])
    return info


def _run(graph, fetches, feed_dict=None):
    cg = _graph()
    with graph.as_default(), cg.Session(graph=graph) as sess:
        sess.run(cg.global_variables_initializer())
        return sess.run(fetches, feed_dict)


def _array(v):
    return np.asarray(v, dtype=np.float64)


@builder("probe_quadratic_graph")
def _quadratic_graph(fn, a, b, c, xs, other):
    """2.1: call fn(a, b, c, x_values) in a fresh graph; describe (y, feed_dict); run y on x_values and on other."""
    cg = _graph()
    g = cg.Graph()
    with g.as_default():
        out = fn(a, b, c, np.array(xs, dtype=np.float32))
    report = {"pair": isinstance(out, tuple) and len(out) == 2, "out": repr(out)[:80]}
    if not report["pair"]:
        return report
    y, feed = out
    report["y"] = _kind(y)
    report["y_repr"] = repr(y)[:80]
    if not report["y"]["tensor"]:
        return report
    report["same_graph"] = y.graph is g
    report["feed_ok"] = isinstance(feed, dict) and len(feed) == 1
    report["feed_repr"] = repr(feed)[:80]
    if not report["feed_ok"] or not report["same_graph"]:
        return report
    (x, fed), = feed.items()
    report["x"] = _kind(x)
    if not report["x"]["tensor"] or x.op.type != "Placeholder":
        return report
    report["fed"] = _array(fed)
    try:                # reported, not raised: the checks look at the placeholder first
        report["got"] = _array(_run(g, y, feed))
        report["again"] = _array(_run(g, y, {x: np.asarray(other, dtype=np.float32)}))
    except Exception as exc:
        report["run_error"] = f"{type(exc).__name__}: {exc}"[:300]
    return report


@builder("probe_evaluate")
def _evaluate(fn, xv):
    """2.2: fn(fetches[, feed]) on three graphs: constants, a Variable with a placeholder, a counter."""
    cg = _graph()
    from course.graph import array_ops, math_ops, variables

    def call(g, fetches, feed=None):
        with g.as_default():
            return fn(fetches, feed) if feed is not None else fn(fetches)

    report = {}
    g = cg.Graph()
    with g.as_default():
        total = math_ops.add(array_ops.constant([1.0, 2.0], name="a"), array_ops.constant([3.0, 4.0], name="b"))
    report["sum"] = call(g, total)
    g = cg.Graph()
    with g.as_default():
        w = variables.Variable(array_ops.constant([[1.0, -2.0], [0.5, 3.0]]), name="w")
        x = array_ops.placeholder(_torch().float32, (None, 2), name="x")
        y = math_ops.matmul(x, w)
    xv = np.asarray(xv, dtype=np.float32)
    report["matmul"] = call(g, y, {x: xv})
    pair = call(g, [y, w], {x: xv[:1]})
    report["pair_is_list"] = isinstance(pair, list)
    report["pair"] = list(pair) if isinstance(pair, (list, tuple)) else pair
    g = cg.Graph()
    with g.as_default():
        counter = variables.Variable(0.0, name="counter")
        step = variables.assign_add(counter, 1.0)
    report["counter"] = [call(g, step), call(g, step)]
    return report


def _torch():
    import torch
    return torch


@builder("probe_seed003_forward")
def _seed003_forward(fn, X):
    """2.3: fn() in a fresh graph; describe (x, w1, w2, y); run w1, w2, y on X and y on X[:1]."""
    cg = _graph()
    g = cg.Graph()
    with g.as_default():
        out = fn()
    report = {"four": isinstance(out, tuple) and len(out) == 4, "out": repr(out)[:80]}
    if not report["four"]:
        return report
    x, w1, w2, y = out
    report.update(x=_kind(x), w1=_kind(w1), w2=_kind(w2), y=_kind(y),
                  reprs=[repr(v)[:80] for v in out])
    if not (report["x"]["tensor"] and report["y"]["tensor"] and report["w1"]["variable"] and report["w2"]["variable"]):
        return report
    X = np.asarray(X, dtype=np.float32)
    w1v, w2v, yv = _run(g, [w1, w2, y], {x: X})
    report.update(w1_value=_array(w1v), w2_value=_array(w2v), y_value=_array(yv),
                  one_shape=list(np.asarray(_run(g, y, {x: X[:1]})).shape))
    return report


_LOSSES = {
    # mean((x W + b - y)^2) and a 2-3-1 sigmoid network's squared error, with the graph's ops
    "linear": lambda m, nn, r, v, x, y_: r.reduce_mean(m.square(m.subtract(m.add(m.matmul(x, v["W"]), v["b"]), y_))),
    "net": lambda m, nn, r, v, x, y_: r.reduce_mean(m.square(m.subtract(
        nn.sigmoid(m.matmul(nn.sigmoid(m.matmul(x, v["W1"])), v["W2"])), y_))),
}


@builder("probe_sgd_step_op")
def _sgd_step_op(fn, loss_name, init, n_in, lr, batches):
    """2.4: build the loss in a fresh graph, op = fn(loss, var_list, lr), run it once per batch and
    report the variables' values after each run, the unused variable's, and the new op types."""
    cg = _graph()
    from course.graph import array_ops, math_ops, nn_ops, reduce_ops, variables
    torch = _torch()
    g = cg.Graph()
    with g.as_default():
        v = {k: variables.Variable(array_ops.constant(np.asarray(a, dtype=np.float32)), name=k)
             for k, a in init.items()}
        unused = variables.Variable(array_ops.constant(np.float32([1.0, 2.0])), name="unused")
        x = array_ops.placeholder(torch.float32, (None, n_in), name="x")
        y_ = array_ops.placeholder(torch.float32, (None, 1), name="y")
        loss = _LOSSES[loss_name](math_ops, nn_ops, reduce_ops, v, x, y_)
        n_before = len(g.get_operations())
        op = fn(loss, list(v.values()) + [unused], lr)
        new_types = sorted({o.type for o in g.get_operations()[n_before:]})
    report = {"op": _kind(op), "op_repr": repr(op)[:80], "new_types": new_types, "steps": []}
    if not report["op"]["fetchable"]:
        return report
    with g.as_default(), cg.Session(graph=g) as sess:
        sess.run(cg.global_variables_initializer())
        for xb, yb in batches:
            sess.run(op, {x: np.asarray(xb, dtype=np.float32), y_: np.asarray(yb, dtype=np.float32)})
            values = sess.run({k: var for k, var in v.items()})
            report["steps"].append({"values": {k: _array(a) for k, a in values.items()},
                                    "unused": _array(sess.run(unused))})
    return report


@builder("probe_call_and_grad")
def _call_and_grad(fn, arrays, *args):
    """fn(params, *args) with params leaf tensors made from `arrays`; the result, whether it is a
    torch tensor, and d result / d params (None where it does not depend on one)."""
    torch = _torch()
    params = [torch.as_tensor(a).detach().clone().requires_grad_(True) for a in arrays]
    out = fn(params, *args)
    report = {"out": out, "is_tensor": isinstance(out, torch.Tensor)}
    if report["is_tensor"]:
        report.update(requires_grad=bool(out.requires_grad), dim=out.dim())
        if out.requires_grad and out.dim() == 0:
            grads = torch.autograd.grad(out, params, allow_unused=True)
            report["grads"] = [None if g is None else g.detach() for g in grads]
    report["params_after"] = [p.detach() for p in params]
    return report


@builder("probe_dataset_map")
def _dataset_map(fn, images, labels, order):
    """12.3: Dataset.from_tensor_slices((images, labels)) mapped with fn before or after batch(3):
    every batch as a pair of arrays, or the error it raised (as text)."""
    from course import tf
    ds = tf.data.Dataset.from_tensor_slices((np.asarray(images), np.asarray(labels)))
    ds = ds.map(fn).batch(3) if order == "map then batch" else ds.batch(3).map(fn)
    try:
        return {"batches": [(np.asarray(b[0].numpy()), np.asarray(b[1].numpy())) for b in ds]}
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}


@builder("probe_first_batch")
def _first_batch(dataset, batch_size):
    """12.4: the first batch of DataLoader(dataset, batch_size)."""
    import torch
    xb, yb = next(iter(torch.utils.data.DataLoader(dataset, batch_size=batch_size)))
    return xb, yb


@builder("probe_torch_steps")
def _torch_steps(net, opt, n, seed):
    """n Adam steps of cross-entropy on seeded random batches (lesson 13's training to resume)."""
    import torch
    g = torch.Generator().manual_seed(seed)
    for _ in range(n):
        x, y = torch.randn(8, 4, generator=g), torch.randint(0, 3, (8,), generator=g)
        loss = torch.nn.functional.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return None


@builder("probe_roundtrip")
def _roundtrip(fn, folder, perturb):
    """13.1: fn(model, x, path) on a small trained Keras model, load_model counted (and, if `perturb`,
    the loaded model's first kernel moved by +0.5); report the result, whether the file exists, whether
    it was loaded, and the original's and the loaded model's predictions."""
    import os

    import torch

    from course.keras import Sequential, layers, saving
    from course.keras.layers.base import clear_session
    clear_session()
    torch.manual_seed(131)
    model = Sequential([layers.Input(shape=(6,)), layers.Dense(8, activation="relu"),
                        layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(13)
    x = rng.random((20, 6)).astype(np.float32)
    model.fit(x, rng.integers(0, 3, size=20), epochs=1, batch_size=10, verbose=0)
    weights_before = [w.copy() for w in model.get_weights()]
    original_load, calls = saving.load_model, []

    def counting_load(*args, **kwargs):
        loaded = original_load(*args, **kwargs)
        calls.append(loaded)
        if perturb:
            kernel = loaded.layers[0].kernel
            kernel.assign(kernel.numpy() + 0.5)                # a planted difference the result must show
        return loaded

    path = os.path.join(folder, f"model_{int(perturb)}.keras")
    saving.load_model = counting_load
    try:
        got = fn(model, x.copy(), path)
    finally:
        saving.load_model = original_load
    report = {"got": got, "file": os.path.isfile(path), "loaded": len(calls) > 0,
              "weights_same": all(np.array_equal(a, b) for a, b in zip(weights_before, model.get_weights()))}
    if calls:
        report.update(original=model.predict(x, verbose=0), reloaded=calls[-1].predict(x, verbose=0))
    return report
