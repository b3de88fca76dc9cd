"""course.optim against independent references: torch.optim (float64, 1e-6) for the torch form,
real TensorFlow (tf.compat.v1.train in graph mode, tf.keras.optimizers) for the TF1 and Keras
forms (float32, 1e-5). Every run is 100 steps on a quadratic with noise,
g_k = A·w + n_k, each side computing its gradients from its own parameters, so a difference
anywhere compounds."""
import math

import numpy as np
import pytest
import torch

import course.optim as O

STEPS = 100
SHAPES = [(3, 4), (5,), (2, 3, 4)]


def problem(dtype, seed=0, steps=STEPS, scale=1.0):
    """(w0, A, noise): start, curvature and the noise sequence, as numpy arrays."""
    rng = np.random.default_rng(seed)
    w0 = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    A = [(rng.random(s) + 0.5).astype(dtype) for s in SHAPES]
    noise = [[(scale * rng.standard_normal(s)).astype(dtype) for s in SHAPES] for _ in range(steps)]
    return w0, A, noise


def rel_err(ours, ref):
    """Largest per-tensor ||ours - ref|| / ||ref||."""
    return max(float(np.linalg.norm(np.asarray(o, np.float64) - np.asarray(r, np.float64)) /
                     np.linalg.norm(np.asarray(r, np.float64))) for o, r in zip(ours, ref))


def run_ours(rule, w0, A, noise, skip=None):
    ps = [torch.tensor(w) for w in w0]
    for k, n in enumerate(noise):
        gs = [torch.from_numpy(a) * p + torch.from_numpy(e) for a, p, e in zip(A, ps, n)]
        if skip:
            gs = [None if skip(k, i) else g for i, g in enumerate(gs)]
        rule.apply(ps, gs)
    return [p.numpy() for p in ps]


# -- torch form vs torch.optim ----------------------------------------------------------------
T = torch.optim
TORCH_CASES = {
    "sgd": (lambda: O.SGD.torch(lr=0.1), lambda q: T.SGD(q, lr=0.1)),
    "sgd_momentum": (lambda: O.SGD.torch(lr=0.05, momentum=0.9), lambda q: T.SGD(q, lr=0.05, momentum=0.9)),
    "sgd_nesterov_wd": (lambda: O.SGD.torch(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1),
                        lambda q: T.SGD(q, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    "sgd_dampening": (lambda: O.SGD.torch(lr=0.05, momentum=0.9, dampening=0.3),
                      lambda q: T.SGD(q, lr=0.05, momentum=0.9, dampening=0.3)),
    "adagrad": (lambda: O.Adagrad.torch(), lambda q: T.Adagrad(q)),
    "adagrad_all": (lambda: O.Adagrad.torch(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5),
                    lambda q: T.Adagrad(q, lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5)),
    "rmsprop": (lambda: O.RMSprop.torch(), lambda q: T.RMSprop(q)),
    "rmsprop_momentum": (lambda: O.RMSprop.torch(momentum=0.9), lambda q: T.RMSprop(q, momentum=0.9)),
    "rmsprop_centered": (lambda: O.RMSprop.torch(centered=True), lambda q: T.RMSprop(q, centered=True)),
    "rmsprop_all": (lambda: O.RMSprop.torch(lr=0.003, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.1),
                    lambda q: T.RMSprop(q, lr=0.003, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.1)),
    "adam": (lambda: O.Adam.torch(lr=0.01), lambda q: T.Adam(q, lr=0.01)),
    "adam_amsgrad_wd": (lambda: O.Adam.torch(lr=0.01, amsgrad=True, weight_decay=0.1),
                        lambda q: T.Adam(q, lr=0.01, amsgrad=True, weight_decay=0.1)),
    "adam_eps": (lambda: O.Adam.torch(lr=0.01, betas=(0.8, 0.99), eps=0.1),
                 lambda q: T.Adam(q, lr=0.01, betas=(0.8, 0.99), eps=0.1)),
    "adamw": (lambda: O.AdamW.torch(lr=0.01), lambda q: T.AdamW(q, lr=0.01)),
    "adamw_amsgrad": (lambda: O.AdamW.torch(lr=0.01, weight_decay=0.5, amsgrad=True),
                      lambda q: T.AdamW(q, lr=0.01, weight_decay=0.5, amsgrad=True)),
}


def run_torch(make, w0, A, noise, skip=None, lr_at=None):
    qs = [torch.tensor(w, requires_grad=True) for w in w0]
    opt = make(qs)
    for k, n in enumerate(noise):
        if lr_at is not None:
            for group in opt.param_groups:
                group["lr"] = lr_at(k)
        for i, (a, q, e) in enumerate(zip(A, qs, n)):
            q.grad = None if skip and skip(k, i) else torch.from_numpy(a) * q.detach() + torch.from_numpy(e)
        opt.step()
    return [q.detach().numpy() for q in qs]


@pytest.mark.parametrize("case", sorted(TORCH_CASES))
def test_torch_form_matches_torch_optim(case):
    ours, theirs = TORCH_CASES[case]
    w0, A, noise = problem(np.float64)
    assert rel_err(run_ours(ours(), w0, A, noise), run_torch(theirs, w0, A, noise)) <= 1e-6


@pytest.mark.parametrize("case", ["adam", "sgd_dampening", "adagrad_all", "rmsprop_all"])
def test_torch_form_skips_none_gradients_per_parameter(case):
    # torch counts steps per parameter: a parameter without a gradient neither moves nor ages.
    ours, theirs = TORCH_CASES[case]
    w0, A, noise = problem(np.float64)
    skip = lambda k, i: (i == 1 and k % 3 == 0) or (i == 2 and k < 10)  # noqa: E731
    assert rel_err(run_ours(ours(), w0, A, noise, skip), run_torch(theirs, w0, A, noise, skip)) <= 1e-6


@pytest.mark.parametrize("case", ["adam", "adam_amsgrad_wd", "adamw_amsgrad"])
@pytest.mark.parametrize("path", ["fused", "foreach"])
def test_adam_fused_and_foreach_paths_both_match_torch_optim(monkeypatch, case, path):
    import course.optim.adam as adam_module
    calls = []
    if path == "foreach":
        monkeypatch.setattr(adam_module, "_fused_adam_", None)
    elif adam_module._fused_adam_ is None:
        pytest.skip("this torch has no torch._fused_adam_")
    else:
        fused = adam_module._fused_adam_
        monkeypatch.setattr(adam_module, "_fused_adam_", lambda *a, **k: calls.append(1) or fused(*a, **k))
    ours, theirs = TORCH_CASES[case]
    w0, A, noise = problem(np.float64)
    skip = lambda k, i: i == 1 and k % 3 == 0  # noqa: E731  (per-parameter steps that differ)
    assert rel_err(run_ours(ours(), w0, A, noise, skip), run_torch(theirs, w0, A, noise, skip)) <= 1e-6
    assert len(calls) == (STEPS if path == "fused" else 0)


def test_adam_non_contiguous_gradients_are_copied_into_the_fused_step(monkeypatch):
    import course.optim.adam as adam_module
    # A Keras conv kernel's gradient arrives as a permuted view; the fused kernel walks raw storage.
    calls = []
    if adam_module._fused_adam_ is not None:
        fused = adam_module._fused_adam_
        monkeypatch.setattr(adam_module, "_fused_adam_", lambda *a, **k: calls.append(1) or fused(*a, **k))
    w0, A, noise = problem(np.float64)
    ps = [torch.tensor(w) for w in w0]
    qs = [torch.tensor(w, requires_grad=True) for w in w0]
    rule, opt = O.Adam.torch(lr=0.01), T.Adam(qs, lr=0.01, foreach=False)
    for n in noise[:20]:
        gs = [torch.from_numpy(a) * p + torch.from_numpy(e) for a, p, e in zip(A, ps, n)]
        gs = [g.t().contiguous().t() if g.dim() == 2 else g for g in gs]   # (3, 4) column-major
        assert not gs[0].is_contiguous()
        rule.apply(ps, gs)
        for q, a, e in zip(qs, A, n):
            q.grad = torch.from_numpy(a) * q.detach() + torch.from_numpy(e)
        opt.step()
    assert rel_err([p.numpy() for p in ps], [q.detach().numpy() for q in qs]) <= 1e-6
    assert len(calls) == (20 if adam_module._fused_adam_ is not None else 0)


def test_schedule_in_torch_form_matches_torch_with_lr_set_each_step():
    sched = O.ExponentialDecay(0.05, decay_steps=10, decay_rate=0.5)
    w0, A, noise = problem(np.float64)
    ours = run_ours(O.SGD.torch(lr=sched, momentum=0.9), w0, A, noise)
    theirs = run_torch(lambda q: T.SGD(q, lr=0.05, momentum=0.9), w0, A, noise, lr_at=sched)
    assert rel_err(ours, theirs) <= 1e-6


def test_state_dict_round_trip_continues_like_torch():
    w0, A, noise = problem(np.float64)
    first = O.Adam.torch(lr=0.01)
    mid = run_ours(first, w0, A, noise[:50])
    second = O.Adam.torch(lr=0.01)
    second.load_state_dict(first.state_dict())          # slots attached on the first apply
    assert second.iterations == 50
    ours = run_ours(second, mid, A, noise[50:])
    assert rel_err(ours, run_torch(lambda q: T.Adam(q, lr=0.01), w0, A, noise)) <= 1e-6


def test_interface_iterations_current_lr_and_settable_learning_rate():
    rule = O.SGD(learning_rate=O.PiecewiseConstantDecay([2], [1.0, 0.1]))
    p = torch.zeros(3, requires_grad=True)
    assert rule.iterations == 0 and rule.current_lr() == 1.0
    for _ in range(3):
        rule.apply([p], [torch.ones(3)])
    assert rule.iterations == 3 and rule.current_lr() == 0.1
    assert torch.allclose(p.detach(), torch.full((3,), -3.0))   # steps 0, 1, 2 <= boundary 2: lr 1
    assert p.requires_grad and p.grad is None
    rule.learning_rate = 0.5
    rule.apply([p], [torch.ones(3)])
    assert torch.allclose(p.detach(), torch.full((3,), -3.5))
    rule.learning_rate = lambda: 0.25                          # Keras allows zero-argument callables
    assert rule.current_lr() == 0.25


def test_float32_grad_for_float64_param_is_cast():
    p = torch.zeros(2, dtype=torch.float64)
    O.SGD(1.0).apply([p], [torch.ones(2, dtype=torch.float32)])
    assert p.dtype == torch.float64 and p.tolist() == [-1.0, -1.0]


def test_clear_errors():
    p = torch.zeros(3)
    with pytest.raises(ValueError, match="2 parameters and 1 gradients"):
        O.Adam().apply([p, p], [None])
    with pytest.raises(ValueError, match=r"shape \(4,\) but its parameter has shape \(3,\)"):
        O.Adam().apply([p], [torch.zeros(4)])
    with pytest.raises(ValueError, match="TF1 optimizers have no weight_decay"):
        O.Adam(weight_decay=0.1, form="tf1")
    with pytest.raises(ValueError, match="form must be one of"):
        O.Adam(form="jax")
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier: adamm. .*valid names: .*adam"):
        O.get("adamm")
    with pytest.raises(ValueError, match="at most one of"):
        O.SGD(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="TF1 has no AdamW"):
        O.AdamW(form="tf1")


def test_get_maps_keras_names_to_keras_presets():
    rule = O.get("Adam")
    assert isinstance(rule, O.Adam) and rule.form == "keras" and rule.epsilon == 1e-7
    assert O.get("rmsprop", form="torch").rho == 0.99
    assert O.get(rule) is rule


@pytest.mark.cuda
def test_cuda_matches_cpu_and_needs_no_synchronisation():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    w0, A, noise = problem(np.float32, steps=5)
    cpu = [torch.tensor(w) for w in w0]
    gpu = [p.cuda() for p in cpu]
    rule_c, rule_g = O.Adam.keras(0.01), O.Adam.keras(0.01)
    for n in noise:
        gs = [torch.from_numpy(e) for e in n]
        rule_c.apply(cpu, gs)
        gg = [g.cuda() for g in gs]
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            rule_g.apply(gpu, gg)
        finally:
            torch.cuda.set_sync_debug_mode("default")
    assert rel_err([p.cpu().numpy() for p in gpu], [p.numpy() for p in cpu]) <= 1e-6


# -- TF1 and Keras 3 forms vs real TensorFlow -------------------------------------------------
@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow")


def run_keras(make, w0, A, noise):
    import tensorflow as tf
    opt = make()
    vs = [tf.Variable(w) for w in w0]
    for n in noise:
        gs = [tf.constant(a * v.numpy() + e) for a, v, e in zip(A, vs, n)]
        opt.apply_gradients(zip(gs, vs))
    return [v.numpy() for v in vs]


def run_tf1(make, w0, A, noise):
    """make(global_step) -> a tf.compat.v1.train optimizer; runs in a graph and a Session."""
    import tensorflow as tf
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        vs = [v1.Variable(w) for w in w0]
        phs = [v1.placeholder(tf.as_dtype(w.dtype), w.shape) for w in w0]
        step = v1.train.get_or_create_global_step()
        train = make(step).apply_gradients(list(zip(phs, vs)), global_step=step)
        with v1.Session(graph=graph) as sess:
            sess.run(v1.global_variables_initializer())
            for n in noise:
                vals = sess.run(vs)
                sess.run(train, {ph: a * v + e for ph, a, v, e in zip(phs, A, vals, n)})
            return sess.run(vs)


TF1_CASES = {
    "gradient_descent": (lambda: O.SGD.tf1(0.1), lambda s, tf: tf.train.GradientDescentOptimizer(0.1)),
    "momentum": (lambda: O.SGD.tf1(0.05, momentum=0.9), lambda s, tf: tf.train.MomentumOptimizer(0.05, 0.9)),
    "momentum_nesterov": (lambda: O.SGD.tf1(0.05, momentum=0.9, use_nesterov=True),
                          lambda s, tf: tf.train.MomentumOptimizer(0.05, 0.9, use_nesterov=True)),
    "momentum_decay": (lambda: O.SGD.tf1(O.ExponentialDecay(0.05, 10, 0.5, staircase=True), momentum=0.9),
                       lambda s, tf: tf.train.MomentumOptimizer(
                           tf.train.exponential_decay(0.05, s, 10, 0.5, staircase=True), 0.9)),
    "adagrad": (lambda: O.Adagrad.tf1(0.1), lambda s, tf: tf.train.AdagradOptimizer(0.1)),
    "rmsprop": (lambda: O.RMSprop.tf1(0.01), lambda s, tf: tf.train.RMSPropOptimizer(0.01)),
    "rmsprop_momentum": (lambda: O.RMSprop.tf1(0.01, momentum=0.9),
                         lambda s, tf: tf.train.RMSPropOptimizer(0.01, momentum=0.9)),
    "rmsprop_centered": (lambda: O.RMSprop.tf1(0.01, decay=0.8, momentum=0.5, epsilon=1e-6, centered=True),
                         lambda s, tf: tf.train.RMSPropOptimizer(0.01, decay=0.8, momentum=0.5, epsilon=1e-6,
                                                                 centered=True)),
    "adam": (lambda: O.Adam.tf1(0.01), lambda s, tf: tf.train.AdamOptimizer(0.01)),
    "adam_piecewise": (lambda: O.Adam.tf1(O.PiecewiseConstantDecay([20, 50], [0.05, 0.01, 0.001])),
                       lambda s, tf: tf.train.AdamOptimizer(tf.train.piecewise_constant(s, [20, 50],
                                                                                       [0.05, 0.01, 0.001]))),
}


@pytest.mark.parity
@pytest.mark.parametrize("case", sorted(TF1_CASES))
def test_tf1_form_matches_tf_compat_v1_train(tf, case):
    ours, theirs = TF1_CASES[case]
    w0, A, noise = problem(np.float32)
    ref = run_tf1(lambda s: theirs(s, tf.compat.v1), w0, A, noise)
    assert rel_err(run_ours(ours(), w0, A, noise), ref) <= 1e-5


KERAS_CASES = {
    "sgd": (lambda: O.SGD.keras(0.1), lambda k: k.SGD(0.1)),
    "sgd_momentum": (lambda: O.SGD.keras(0.05, momentum=0.9), lambda k: k.SGD(0.05, momentum=0.9)),
    "sgd_nesterov_wd": (lambda: O.SGD.keras(0.05, momentum=0.9, nesterov=True, weight_decay=0.1),
                        lambda k: k.SGD(0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    "sgd_momentum_decay": (lambda: O.SGD.keras(O.ExponentialDecay(0.05, 10, 0.5), momentum=0.9),
                           lambda k: k.SGD(k.schedules.ExponentialDecay(0.05, 10, 0.5), momentum=0.9)),
    "sgd_clipnorm": (lambda: O.SGD.keras(0.1, clipnorm=0.5), lambda k: k.SGD(0.1, clipnorm=0.5)),
    "sgd_global_clipnorm": (lambda: O.SGD.keras(0.1, global_clipnorm=1.0), lambda k: k.SGD(0.1, global_clipnorm=1.0)),
    "sgd_clipvalue": (lambda: O.SGD.keras(0.1, clipvalue=0.3), lambda k: k.SGD(0.1, clipvalue=0.3)),
    "adagrad": (lambda: O.Adagrad.keras(0.1), lambda k: k.Adagrad(0.1)),
    "adagrad_wd": (lambda: O.Adagrad.keras(0.1, initial_accumulator_value=0.5, epsilon=1e-3, weight_decay=0.05),
                   lambda k: k.Adagrad(0.1, initial_accumulator_value=0.5, epsilon=1e-3, weight_decay=0.05)),
    "rmsprop": (lambda: O.RMSprop.keras(0.01), lambda k: k.RMSprop(0.01)),
    "rmsprop_eps": (lambda: O.RMSprop.keras(0.01, epsilon=0.1), lambda k: k.RMSprop(0.01, epsilon=0.1)),
    "rmsprop_momentum_decay": (lambda: O.RMSprop.keras(O.ExponentialDecay(0.01, 10, 0.7), momentum=0.9),
                               lambda k: k.RMSprop(k.schedules.ExponentialDecay(0.01, 10, 0.7), momentum=0.9)),
    "rmsprop_centered": (lambda: O.RMSprop.keras(0.01, rho=0.8, momentum=0.5, centered=True),
                         lambda k: k.RMSprop(0.01, rho=0.8, momentum=0.5, centered=True)),
    "adam": (lambda: O.Adam.keras(0.01), lambda k: k.Adam(0.01)),
    "adam_eps": (lambda: O.Adam.keras(0.01, beta_1=0.8, beta_2=0.99, epsilon=0.1),
                 lambda k: k.Adam(0.01, beta_1=0.8, beta_2=0.99, epsilon=0.1)),
    "adam_amsgrad_wd": (lambda: O.Adam.keras(0.01, amsgrad=True, weight_decay=0.1),
                        lambda k: k.Adam(0.01, amsgrad=True, weight_decay=0.1)),
    "adam_piecewise": (lambda: O.Adam.keras(O.PiecewiseConstantDecay([20, 50], [0.05, 0.01, 0.001])),
                       lambda k: k.Adam(k.schedules.PiecewiseConstantDecay([20, 50], [0.05, 0.01, 0.001]))),
    "adamw": (lambda: O.AdamW.keras(0.01), lambda k: k.AdamW(0.01)),
    "adamw_wd": (lambda: O.AdamW.keras(0.01, weight_decay=0.3), lambda k: k.AdamW(0.01, weight_decay=0.3)),
}


@pytest.mark.parity
@pytest.mark.parametrize("case", sorted(KERAS_CASES))
def test_keras_form_matches_tf_keras_optimizers(tf, case):
    ours, theirs = KERAS_CASES[case]
    w0, A, noise = problem(np.float32)
    ref = run_keras(lambda: theirs(tf.keras.optimizers), w0, A, noise)
    assert rel_err(run_ours(ours(), w0, A, noise), ref) <= 1e-5


@pytest.mark.parity
@pytest.mark.parametrize("case", ["adam_eps", "adam_amsgrad_wd"])
def test_keras_adam_foreach_path_matches_tf_keras(tf, monkeypatch, case):
    import course.optim.adam as adam_module
    monkeypatch.setattr(adam_module, "_fused_adam_", None)
    ours, theirs = KERAS_CASES[case]
    w0, A, noise = problem(np.float32)
    ref = run_keras(lambda: theirs(tf.keras.optimizers), w0, A, noise)
    assert rel_err(run_ours(ours(), w0, A, noise), ref) <= 1e-5


@pytest.mark.parity
@pytest.mark.parametrize("staircase", [False, True])
def test_schedules_match_keras_schedules(tf, staircase):
    k = tf.keras.optimizers.schedules
    pairs = [(O.ExponentialDecay(0.1, 7, 0.6, staircase=staircase), k.ExponentialDecay(0.1, 7, 0.6, staircase)),
             (O.PiecewiseConstantDecay([3, 10], [1.0, 0.5, 0.25]), k.PiecewiseConstantDecay([3, 10], [1.0, 0.5, 0.25]))]
    for ours, theirs in pairs:
        for step in range(30):
            assert math.isclose(ours(step), float(theirs(step)), rel_tol=1e-6), (type(ours).__name__, step)
            assert math.isclose(float(ours(torch.tensor(float(step)))), float(theirs(step)), rel_tol=1e-6)
