"""Differential tests: the same code on real TensorFlow and on course.tf must give the same values.

Each case is a function of the module (`tensorflow` or `course.tf`), so both run identical code.
"""
import os

import numpy as np
import pytest

import course.tf as ctf

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
TF = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity

RNG = np.random.default_rng(1)
A = RNG.standard_normal((3, 4)).astype(np.float32)
B = RNG.standard_normal((4, 2)).astype(np.float32)
IMG = RNG.standard_normal((2, 7, 7, 3)).astype(np.float32)
KER = RNG.standard_normal((3, 3, 3, 5)).astype(np.float32)
LABELS = np.array([0, 3, 1])
INTS = np.array([[3, -7, 2], [5, 0, -1]], np.int32)

CASES = {
    "constant_float64": lambda m: m.constant(np.ones(2)),
    "constant_python": lambda m: m.constant([[1.0, 2.0]]),
    "constant_int": lambda m: m.constant([1, 2]),
    "constant_big_int": lambda m: m.constant(2**40),
    "constant_shape": lambda m: m.constant(1.5, shape=[2, 3]),
    "convert_np64_to_f32": lambda m: m.convert_to_tensor(np.ones(3), dtype=m.float32),
    "zeros": lambda m: m.zeros([2, 3], m.int32),
    "ones_like": lambda m: m.ones_like([[1, 2]]),
    "fill": lambda m: m.fill([2, 2], 7),
    "range": lambda m: m.range(2, 11, 3),
    "range_float": lambda m: m.range(0, 1.5),
    "linspace": lambda m: m.linspace(0.0, 2.0, 5),
    "linspace_int": lambda m: m.linspace(0, 1, 4),
    "eye": lambda m: m.eye(3, 2),
    "matmul": lambda m: m.matmul(A, B),
    "matmul_t": lambda m: m.matmul(A, A, transpose_b=True),
    "matmul_int": lambda m: m.matmul([[1, 2]], [[3], [4]]),
    "add_np_to_tensor": lambda m: m.constant(A) + np.ones((3, 4)),
    "np_minus_tensor": lambda m: np.ones((3, 4)) - m.constant(A),
    "int_truediv": lambda m: m.constant(INTS) / 2,
    "int_floordiv": lambda m: m.constant(INTS) // 2,
    "int_mod": lambda m: m.constant(INTS) % 3,
    "divide": lambda m: m.divide(7, 2),
    "uint8_div": lambda m: m.constant(np.array([200, 3], np.uint8)) / m.constant(np.array([3, 2], np.uint8)),
    "square_sqrt_exp_log": lambda m: m.sqrt(m.square(A)) + m.exp(A) - m.math.log(m.abs(A) + 1),
    "pow_sign_neg": lambda m: m.pow(m.abs(A), 1.5) * m.sign(A) + m.negative(A),
    "max_min": lambda m: m.maximum(A, 0.0) + m.minimum(A, 0.5),
    "reduce_mean_int": lambda m: m.reduce_mean(INTS, axis=1),
    "reduce_mean_all_int": lambda m: m.reduce_mean(m.constant([1, 2])),
    "reduce_sum_int": lambda m: m.reduce_sum(INTS),
    "reduce_sum_keep": lambda m: m.reduce_sum(A, axis=[0, 1], keepdims=True),
    "reduce_max_min": lambda m: m.reduce_max(A, 0) - m.reduce_min(A, 1)[:1],
    "reduce_prod": lambda m: m.reduce_prod(A[:2, :2], axis=1),
    "reduce_any_all": lambda m: (m.reduce_any(A > 1.0, axis=0), m.reduce_all(A > -5.0)),
    "reduce_std_var": lambda m: (m.math.reduce_std(A, 1), m.math.reduce_variance(A)),
    "reduce_logsumexp": lambda m: m.reduce_logsumexp(A, axis=-1),
    "argmax_default_axis": lambda m: m.argmax(A),
    "argmax_axis1_int32": lambda m: m.argmax(A, axis=1, output_type=m.int32),
    "argmin": lambda m: m.argmin(INTS, 1),
    "comparisons": lambda m: (m.equal([1, 2], [1, 3]), m.not_equal([1, 2], [1, 3]), m.greater(A, 0.0),
                              m.less_equal(A, 0.1)),
    "cast_trunc": lambda m: m.cast([1.7, -1.7, 2.5], m.int32),
    "cast_bool": lambda m: m.cast([0.0, 2.0], m.bool),
    "round_half_even": lambda m: m.round([0.5, 1.5, 2.5, -0.5]),
    "reshape": lambda m: m.reshape(A, [2, -1]),
    "transpose": lambda m: m.transpose(IMG, perm=[0, 3, 1, 2]),
    "expand_squeeze": lambda m: m.squeeze(m.expand_dims(A, 1)),
    "concat": lambda m: m.concat([A, A], axis=0),
    "stack": lambda m: m.stack([A, A], axis=1),
    "unstack": lambda m: m.unstack(A, axis=1),
    "gather": lambda m: m.gather(A, [[2, 0], [1, 1]]),
    "gather_axis": lambda m: m.gather(A, [3, 0], axis=1),
    "gather_nd": lambda m: m.gather_nd(A, [[0, 1], [2, 3]]),
    "one_hot": lambda m: m.one_hot([0, 2, -1, 5], 4),
    "one_hot_onoff": lambda m: m.one_hot([1, 0], 3, on_value=5, off_value=-1),
    "clip_by_value": lambda m: m.clip_by_value(A, -0.5, 0.5),
    "clip_by_norm": lambda m: m.clip_by_norm(A, 1.0),
    "clip_by_global_norm": lambda m: m.clip_by_global_norm([A, B], 2.0),
    "where_cond": lambda m: m.where(A > 0),
    "where_select": lambda m: m.where(A > 0, A, -A),
    "shape_size_rank": lambda m: (m.shape(IMG), m.size(IMG), m.rank(IMG)),
    "tile": lambda m: m.tile([[1, 2]], [2, 3]),
    "slice": lambda m: m.slice(A, [1, 0], [2, -1]),
    "split": lambda m: m.split(A, [1, -1, 2], axis=1),
    "pad": lambda m: m.pad(A, [[1, 0], [0, 2]], constant_values=9),
    "pad_reflect": lambda m: m.pad(A, [[1, 1], [2, 2]], "REFLECT"),
    "reverse": lambda m: m.reverse(A, [1]),
    "boolean_mask": lambda m: m.boolean_mask(A, A[:, 0] > 0),
    "sort_argsort": lambda m: (m.sort(A, direction="DESCENDING"), m.argsort(A)),
    "unique": lambda m: m.unique([4, 1, 4, 2, 1]),
    "top_k": lambda m: m.math.top_k(A, 2),
    "in_top_k": lambda m: m.math.in_top_k(LABELS, A, 2),
    "cumsum": lambda m: m.cumsum(A, axis=1, exclusive=True, reverse=True),
    "confusion_matrix": lambda m: m.math.confusion_matrix([0, 1, 2, 1], [0, 2, 2, 1]),
    "norm": lambda m: (m.norm(A), m.norm(A, axis=1)),
    "einsum_tensordot": lambda m: (m.einsum("ij,jk->ik", A, B), m.tensordot(A, B, axes=1)),
    "relu_family": lambda m: (m.nn.relu(A), m.nn.relu6(A * 5), m.nn.elu(A), m.nn.leaky_relu(A),
                              m.nn.softplus(A), m.nn.selu(A)),
    "softmax": lambda m: (m.nn.softmax(A), m.nn.log_softmax(A, axis=0)),
    "sparse_softmax_ce": lambda m: m.nn.sparse_softmax_cross_entropy_with_logits(labels=LABELS, logits=A),
    "softmax_ce": lambda m: m.nn.softmax_cross_entropy_with_logits(labels=np.eye(4, dtype=np.float32)[LABELS],
                                                                    logits=A),
    "sigmoid_ce": lambda m: m.nn.sigmoid_cross_entropy_with_logits(labels=(A > 0).astype(np.float32), logits=A),
    "l2_loss": lambda m: m.nn.l2_loss(A),
    "moments": lambda m: m.nn.moments(IMG, axes=[0, 1, 2]),
    "conv2d_valid": lambda m: m.nn.conv2d(IMG, KER, strides=1, padding="VALID"),
    "conv2d_same_stride2": lambda m: m.nn.conv2d(IMG, KER, strides=[1, 2, 2, 1], padding="SAME"),
    "max_pool_same": lambda m: m.nn.max_pool2d(IMG, ksize=2, strides=2, padding="SAME"),
    "avg_pool_same": lambda m: m.nn.avg_pool2d(IMG, ksize=3, strides=2, padding="SAME"),
    "bias_add": lambda m: m.nn.bias_add(IMG, np.arange(3, dtype=np.float32)),
    "l2_normalize": lambda m: m.math.l2_normalize(A, axis=1),
    "linalg": lambda m: (m.linalg.inv(A[:3, :3]), m.linalg.det(A[:3, :3]), m.linalg.trace(A[:3, :3])),
}


def _to_numpy(value):
    if isinstance(value, (list, tuple)):
        return [_to_numpy(v) for v in value]
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value)


def _compare(ours, theirs, name):
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), name
        for o, t in zip(ours, theirs):
            _compare(o, t, name)
        return
    assert ours.dtype == theirs.dtype, f"{name}: dtype {ours.dtype} vs TensorFlow's {theirs.dtype}"
    assert ours.shape == theirs.shape, f"{name}: shape {ours.shape} vs TensorFlow's {theirs.shape}"
    if ours.dtype.kind == "f":
        np.testing.assert_allclose(ours, theirs, rtol=2e-5, atol=2e-5, err_msg=name)
    else:
        np.testing.assert_array_equal(ours, theirs, err_msg=name)


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_matches_tensorflow(name):
    _compare(_to_numpy(CASES[name](ctf)), _to_numpy(CASES[name](TF)), name)


# --- GradientTape: the same code on both ----------------------------------------------------------
def _tape_cases(m):
    x = m.Variable([0.5, -1.0, 2.0])
    u = m.Variable(3.0)
    c = m.constant([1.0, 2.0, 3.0])
    out = {}
    with m.GradientTape(persistent=True) as tape:
        tape.watch(c)
        y = m.reduce_sum(m.sin(x) * x * c)
        z = x * x                                  # non-scalar target
    out["dy_dx"], out["dy_dc"], out["dy_du"] = tape.gradient(y, [x, c, u])
    out["dz_dx"] = tape.gradient(z, x)
    out["dz_dx_weighted"] = tape.gradient(z, x, output_gradients=m.constant([1.0, 0.0, 2.0]))
    out["zero"] = tape.gradient(y, u, unconnected_gradients=m.UnconnectedGradients.ZERO)
    out["dict"] = tape.gradient(y, {"b": x, "a": c})
    out["jacobian"] = tape.jacobian(z, x)
    del tape
    with m.GradientTape() as outer:
        with m.GradientTape() as inner:
            p = u * u * u
        dp = inner.gradient(p, u)
    out["d2p"] = outer.gradient(dp, u)
    with m.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(u)
        q = u * m.reduce_sum(x)
    out["unwatched"] = tape.gradient(q, [u, x])
    with m.GradientTape() as tape:
        h = m.nn.relu(m.matmul(m.reshape(x, [1, 3]), m.ones([3, 2]))) * u
        w = m.reduce_mean(m.square(h - 1.0))
        with tape.stop_recording():
            ignored = w * 100.0
        total = w + ignored + m.stop_gradient(w * 10.0)
    out["stop"] = tape.gradient(total, [x, u])
    return out


def _plain(value):
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return np.asarray(value.numpy())


def test_gradient_tape_matches_tensorflow():
    ours, theirs = _plain(_tape_cases(ctf)), _plain(_tape_cases(TF))
    assert ours.keys() == theirs.keys()
    for key in ours:
        o, t = ours[key], theirs[key]
        if t is None or (isinstance(t, list) and any(v is None for v in t)):
            assert (o is None) == (t is None) if not isinstance(t, list) else \
                [v is None for v in o] == [v is None for v in t], key
            t = [v for v in t if v is not None] if isinstance(t, list) else t
            o = [v for v in o if v is not None] if isinstance(o, list) else o
            if t is None:
                continue
        if isinstance(t, dict):
            for k in t:
                np.testing.assert_allclose(o[k], t[k], rtol=1e-5, err_msg=f"{key}[{k}]")
        elif isinstance(t, list):
            for a, b in zip(o, t):
                np.testing.assert_allclose(a, b, rtol=1e-5, err_msg=key)
        else:
            np.testing.assert_allclose(o, t, rtol=1e-5, err_msg=key)


def test_non_persistent_tape_refuses_a_second_gradient_like_tensorflow():
    for m in (ctf, TF):
        x = m.constant(2.0)
        with m.GradientTape() as tape:
            tape.watch(x)
            y = x * x
        tape.gradient(y, x)
        with pytest.raises(RuntimeError, match="non-persistent GradientTape can only be used to compute one set"):
            tape.gradient(y, x)


def test_tensor_reprs_match_tensorflow():
    for make in (lambda m: m.constant([[1.0, 2.0]]), lambda m: m.constant(3), lambda m: m.constant([True])):
        assert repr(make(ctf)) == repr(make(TF))
        assert str(make(ctf)) == str(make(TF))
    assert repr(ctf.Variable([1.0, 2.0])) == repr(TF.Variable([1.0, 2.0]))
