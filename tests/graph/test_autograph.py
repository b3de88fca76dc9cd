"""AutoGraph: differential tests against TensorFlow 2.21.

The same Python function runs under TensorFlow's tf.function and ours; the results, the number of
traces, the gradients and the kinds of control-flow ops in the traced graph must agree. Values are
float32 computed in the same order (rtol 1e-6); gradients through loops rtol 1e-5.
"""
import ast

import numpy as np
import pytest

from course import tf as ctf

tf_real = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity
LOOPS = ("While", "StatelessWhile")
CONDS = ("If", "StatelessIf")


def _both(case):
    return [case(tf) for tf in (tf_real, ctf)]


def _np(values):
    if isinstance(values, (list, tuple)):
        return [_np(v) for v in values]
    return np.asarray(values.numpy() if hasattr(values, "numpy") else values)


def _close(a, b, rtol=1e-6):
    if isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y, rtol)
    else:
        np.testing.assert_allclose(b, a, rtol=rtol, atol=1e-6)


def _op_kinds(fn, *args):
    ops = fn.get_concrete_function(*args).graph.get_operations()
    return sum(op.type in LOOPS for op in ops), sum(op.type in CONDS for op in ops)


def test_tensor_if_becomes_one_cond_with_gradients():
    def case(tf):
        @tf.function
        def f(x):
            if tf.reduce_sum(x) > 0:
                y = tf.reduce_sum(x * x)
            else:
                y = -tf.reduce_sum(x)
            return y
        out = []
        for v in [tf.constant([1.0, 2.0]), tf.constant([-1.0, -3.0])]:
            with tf.GradientTape() as tape:
                tape.watch(v)
                y = f(v)
            out.append([y, tape.gradient(y, v)])
        return _np(out), f.experimental_get_tracing_count(), _op_kinds(f, tf.constant([1.0, 2.0]))
    (want, n1, k1), (got, n2, k2) = _both(case)
    _close(want, got)
    assert n1 == n2 == 1 and k1 == k2 == (0, 1)


def test_python_if_and_loop_over_python_values_stay_python():
    def case(tf):
        @tf.function
        def f(x, relu):
            if relu:                         # a Python bool: one trace per value, no cond
                x = tf.maximum(x, 0.0)
            for _ in range(3):               # a Python range: unrolled, no loop op
                x = x * 2.0
            return x
        a = f(tf.constant([-1.0, 2.0]), True)
        b = f(tf.constant([-1.0, 2.0]), False)
        return _np([a, b]), f.experimental_get_tracing_count(), _op_kinds(f, tf.constant([1.0, 2.0]), True)
    (want, n1, k1), (got, n2, k2) = _both(case)
    _close(want, got)
    assert n1 == n2 == 2 and k1 == k2 == (0, 0)


def test_tensor_while_collatz():
    def case(tf):
        @tf.function
        def collatz(n):
            steps = 0
            while n != 1:
                if n % 2 == 0:
                    n = n // 2
                else:
                    n = 3 * n + 1
                steps += 1
            return steps
        out = [int(collatz(tf.constant(k))) for k in (1, 6, 27)]
        return out, collatz.experimental_get_tracing_count(), _op_kinds(collatz, tf.constant(6))
    (want, n1, k1), (got, n2, k2) = _both(case)
    assert want == got == [0, 8, 111]
    assert n1 == n2 == 1 and k1 == k2 == (1, 0)       # the cond sits inside the loop's body graph


def test_for_over_tf_range_with_break_and_continue():
    def case(tf):
        @tf.function
        def f(n, limit):
            total = tf.constant(0)
            last = tf.constant(-1)
            for i in tf.range(n):
                if i % 3 == 0:
                    continue
                total += i
                last = i
                if total > limit:
                    break
            return total, last
        out = [_np(f(tf.constant(n), tf.constant(lim))) for n, lim in ((10, 100), (10, 12), (0, 5))]
        return out, f.experimental_get_tracing_count()
    (want, n1), (got, n2) = _both(case)
    _close(want, got)
    assert n1 == n2 == 1


def test_nested_loops_with_break_and_continue():
    def case(tf):
        @tf.function
        def f(n):
            count = 0
            i = 0
            while i < n:
                i += 1
                if i == 2:
                    continue
                for j in tf.range(i):
                    if j > 2:
                        break
                    count += 1
            return count
        return [int(f(tf.constant(k))) for k in (0, 3, 6)], f.experimental_get_tracing_count()
    (want, n1), (got, n2) = _both(case)
    assert want == got and n1 == n2 == 1


def test_early_return():
    def case(tf):
        @tf.function
        def f(x):
            if tf.reduce_max(x) > 10.0:
                return x / 10.0
            if tf.reduce_min(x) < 0.0:
                return -x
            return x * 2.0
        return _np([f(tf.constant(v)) for v in ([20.0, 1.0], [-1.0, 2.0], [1.0, 2.0])]), \
            f.experimental_get_tracing_count()
    (want, n1), (got, n2) = _both(case)
    _close(want, got)
    assert n1 == n2 == 1


def test_tensor_array_accumulation_in_a_loop_and_its_gradient():
    def case(tf):
        w = tf.Variable([0.5, -1.0, 2.0])

        @tf.function
        def f(n):
            with tf.GradientTape() as tape:
                ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
                h = tf.ones([3])
                for i in tf.range(n):
                    h = tf.tanh(h * w + tf.cast(i, tf.float32))
                    ta = ta.write(i, h)
                seq = ta.stack()
                loss = tf.reduce_sum(seq * seq)
            return seq, tape.gradient(loss, w)
        return _np(f(tf.constant(4))), _np(f(tf.constant(2))), f.experimental_get_tracing_count()
    (a1, b1, n1), (a2, b2, n2) = _both(case)
    _close(a1, a2, rtol=1e-5)
    _close(b1, b2, rtol=1e-5)
    assert n1 == n2 == 1


def test_for_over_a_dataset_runs_in_the_graph_every_call():
    def case(tf):
        ds = tf.data.Dataset.from_tensor_slices(np.arange(12, dtype="float32").reshape(6, 2)).batch(2)

        @tf.function
        def total(ds, w):
            s = tf.constant(0.0)
            for batch in ds:
                s += tf.reduce_sum(batch * w)
                if s > 40.0:
                    break
            return s
        return [float(total(ds, tf.constant(w))) for w in (1.0, 0.5, 1.0)], total.experimental_get_tracing_count()
    (want, n1), (got, n2) = _both(case)
    assert want == got and n1 == n2 == 1


def test_autograph_false_and_do_not_convert_raise_tf_bool_error():
    messages = []
    for tf in (tf_real, ctf):
        @tf.function(autograph=False)
        def f(x):
            if x > 0:
                return x
            return -x

        @tf.autograph.experimental.do_not_convert
        def helper(x):
            while x > 0:
                x -= 1
            return x

        @tf.function
        def g(x):
            return helper(x)
        for fn in (f, g):
            with pytest.raises(tf.errors.OperatorNotAllowedInGraphError) as info:
                fn(tf.constant(1.0))
            text = str(info.value)
            messages.append(text[text.index("Using a symbolic"):].split(". You")[0])
    assert messages[:2] == messages[2:]
    assert messages[2] == "Using a symbolic `tf.Tensor` as a Python `bool` is not allowed"


def test_variable_defined_in_one_branch_only_is_tf_error_and_loop_temporaries_work():
    def case(tf):
        @tf.function
        def f(x):
            if x > 0:
                y = x * 2.0
            return y

        @tf.function
        def last_double(n):
            for i in tf.range(n):
                last = i * 2                   # first set inside the loop: TF starts it at zeros
            return last
        with pytest.raises(ValueError, match="'y' must also be initialized in the else branch"):
            f(tf.constant(1.0))
        return int(last_double(tf.constant(4)))
    assert _both(case) == [6, 6]


def test_to_code_is_python_with_one_operator_call_per_converted_statement():
    def f(x, n):
        total = 0.0
        for i in tf_real.range(n):
            total += x
        while total > 100.0:
            total -= 1.0
        if total > 3.0:
            total = total * 2.0
        return total
    calls = []
    for tf in (tf_real, ctf):
        code = tf.autograph.to_code(f)
        tree = ast.parse(code)                     # valid Python
        names = [n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call)
                 and isinstance(n.func, ast.Attribute) and n.func.attr in ("if_stmt", "while_stmt", "for_stmt")]
        calls.append(sorted(names))
    assert calls[0] == calls[1] == ["for_stmt", "if_stmt", "while_stmt"]


def test_converted_function_keeps_strings_and_refuses_reserved_names():
    from course.graph.autograph import ConversionError, convert, to_code

    def hostile(x):
        payload = "'); import os; os.system('echo pwned') #"
        if x > 0:
            x = x + 1
        return x, payload

    code = to_code(hostile)
    assert "import os" not in [ln.strip() for ln in code.splitlines()]
    assert convert(hostile)(1) == (2, "'); import os; os.system('echo pwned') #")

    def reserved(x):
        ag__ = x
        return ag__
    assert convert(reserved) is reserved               # not converted: ag__ is the converted code's own name
    with pytest.raises(ConversionError, match="reserved"):
        to_code(reserved)

    def other(x):
        if x > 0:
            return 1
        return 2
    other.__code__ = reserved.__code__                 # a body that is not the source's: its own code is used
    assert convert(other)(5) == 5


def test_a_source_file_edited_after_import_is_never_compiled(tmp_path, monkeypatch):
    """The file holding a function is rewritten after import with the same `def` line (name, line,
    parameters) and a hostile body: AutoGraph compiles only a source whose code is the function's own,
    so the edited text is refused and the function runs as imported."""
    import importlib
    import linecache

    from course.graph.autograph import ConversionError, convert, to_code
    marker = tmp_path / "pwned"
    module = tmp_path / "edited_module.py"
    module.write_text("def f(x):\n    if x > 0:\n        x = x + 1\n    return x\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = importlib.import_module("edited_module")
    module.write_text("def f(x):\n    if x > 0:\n        open(%r, 'w').close()\n    return x * 100\n" % str(marker),
                      encoding="utf-8")
    linecache.checkcache(str(module))
    with pytest.raises(ConversionError, match="does not match its code"):
        to_code(mod.f)
    assert convert(mod.f) is mod.f and convert(mod.f)(2) == 3 and not marker.exists()

    @ctf.function
    def traced(x):
        return mod.f(x)
    with pytest.raises(ctf.errors.OperatorNotAllowedInGraphError):     # run as imported: a tensor `if`
        traced(ctf.constant(2))
    assert not marker.exists()


def _normalise(tf, x):
    if tf.reduce_sum(x) > 1.0:                   # converted because a converted function calls it
        return x / tf.reduce_sum(x)
    return x


def test_called_user_functions_and_nested_defs_are_converted_too():
    def case(tf):
        w = tf.Variable(2.0)

        @tf.function
        def f(x):
            def grow(y):
                while tf.reduce_sum(y) < 10.0:
                    y = y * w
                return y
            return grow(_normalise(tf, x))
        return _np([f(tf.constant([0.2, 0.3])), f(tf.constant([3.0, 1.0]))]), f.experimental_get_tracing_count()
    (want, n1), (got, n2) = _both(case)
    _close(want, got)
    assert n1 == n2 == 1


def test_return_inside_loops_python_loops_work_graph_loops_raise_tf_error():
    outs = []
    for tf in (tf_real, ctf):
        @tf.function
        def scaled(x, k):
            for i in range(4):               # a Python loop: the return is Python
                if i == k:
                    return x * float(i)
            return -x

        @tf.function
        def first_big(x):
            for i in tf.range(tf.size(x)):   # a graph loop: TF cannot return from it
                if x[i] > 5:
                    return i
            return -1
        outs.append([float(scaled(tf.constant(2.0), k)) for k in (1, 3, 9)])
        with pytest.raises(NotImplementedError,
                           match="a return statement cannot be placed inside this TensorFlow loop"):
            first_big(tf.constant([1, 7]))
    assert outs[0] == outs[1] == [2.0, 6.0, -2.0]


def test_variables_written_in_a_loop_are_read_on_every_iteration():
    def case(tf):
        v = tf.Variable(1.0)

        @tf.function
        def doubling(n):
            for _ in tf.range(n):
                v.assign(v * 2.0 + 1.0)          # reads the value the previous iteration wrote
            return v.read_value()
        return [float(doubling(tf.constant(k))) for k in (3, 2)], doubling.experimental_get_tracing_count()
    (want, n1), (got, n2) = _both(case)
    assert want == got == [15.0, 63.0] and n1 == n2 == 1


def test_training_loop_over_a_dataset_inside_tf_function():
    X = np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.0], [-1.0, 1.0]], dtype="float32")
    Y = np.array([[1.0], [0.0], [2.0], [-1.0]], dtype="float32")

    def case(tf):
        w = tf.Variable([[0.5], [-0.3]])
        b = tf.Variable([0.1])
        opt = tf.keras.optimizers.SGD(0.1)
        ds = tf.data.Dataset.from_tensor_slices((X, Y)).batch(2)

        @tf.function
        def epoch(ds):
            total = tf.constant(0.0)
            for x, y in ds:
                with tf.GradientTape() as tape:
                    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
                grads = tape.gradient(loss, [w, b])
                opt.apply_gradients(zip(grads, [w, b]))
                total += loss
            return total
        losses = [float(epoch(ds)) for _ in range(3)]
        return [np.array(losses), w.numpy(), b.numpy()], epoch.experimental_get_tracing_count()
    (want, n1), (got, n2) = _both(case)
    _close(want, got, rtol=1e-5)
    assert n1 == n2 == 1


def test_keras_model_call_is_not_converted_as_in_keras_3():
    for tf in (tf_real, ctf):
        class Gate(tf.keras.Model):
            def __init__(self):
                super().__init__()
                self.dense = tf.keras.layers.Dense(2)

            def call(self, x):
                y = self.dense(x)
                if tf.reduce_sum(y) > 0:          # Keras 3 runs call as written: a tensor used as a bool
                    y = y * 2.0
                return y
        model = Gate()

        @tf.function
        def f(x):
            return model(x)
        with pytest.raises(tf.errors.OperatorNotAllowedInGraphError):
            f(tf.constant([[1.0, 2.0]]))


def test_gradients_through_converted_loops_break_and_early_return():
    """A tape outside the traced function differentiates through a data-dependent while loop, a tf.range
    loop that breaks, nested loops and an early return; the same gradients as TF, one trace each."""
    def case(tf):
        w = tf.Variable([0.7, -0.4])

        @tf.function
        def grow(x):
            while tf.reduce_sum(tf.abs(x)) < 6.0:           # the number of iterations depends on x
                x = x * 1.5 + w
            return tf.reduce_sum(x * x)

        @tf.function
        def until(x, n):
            for i in tf.range(n):
                x = tf.tanh(x * w) + tf.cast(i, tf.float32)
                if tf.reduce_max(x) > 2.5:
                    break
            return tf.reduce_sum(x)

        @tf.function
        def nested(x, n):
            for i in tf.range(n):
                j = tf.constant(0)
                while j < i:
                    x = x * w + 0.1
                    j += 1
                    if j == 2:
                        continue
                    x = tf.tanh(x) * 2.0
            return tf.reduce_sum(x)

        @tf.function
        def early(x):
            if tf.reduce_sum(x) > 0.0:
                return tf.reduce_sum(tf.exp(x * w))
            return tf.reduce_sum(x * x * w)

        out = []
        for fn, args in ((grow, ([0.5, 1.0],)), (grow, ([-2.0, 3.0],)), (until, ([0.5, 1.0], 6)),
                         (until, ([0.1, -0.2], 2)), (nested, ([0.5, -1.5], 4)), (early, ([1.0, 2.0],)),
                         (early, ([-1.0, -2.0],))):
            x = tf.constant(args[0])
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = fn(x, *[tf.constant(a) for a in args[1:]])
            out.append(_np([y] + tape.gradient(y, [x, w])))
        counts = [f.experimental_get_tracing_count() for f in (grow, until, nested, early)]
        return out, counts
    (want, n1), (got, n2) = _both(case)
    _close(want, got, rtol=1e-5)
    assert n1 == n2 == [1, 1, 1, 1]


def test_a_variable_changing_dtype_or_shape_is_tf_error_naming_it():
    for tf in (tf_real, ctf):
        @tf.function
        def retype(n):
            total = tf.constant(0)
            for _ in tf.range(n):
                total = tf.cast(total, tf.float32) + 0.5
            return total

        @tf.function
        def grow(n):
            x = tf.constant([1.0])
            while tf.size(x) < n:
                x = tf.concat([x, x], 0)
            return x

        @tf.function
        def branches(x):
            if x > 0:
                y = tf.constant(1)
            else:
                y = tf.constant(1.0)
            return y
        with pytest.raises(TypeError, match="'total' has dtype int32 before the loop, but dtype float32 after one "
                                            "iteration"):
            retype(tf.constant(3))
        with pytest.raises(ValueError, match=r"'x' has shape \(1,\) before the loop, but shape \(2,\) after one "
                                             "iteration"):
            grow(tf.constant(3))
        with pytest.raises(TypeError, match="'y' has dtype int32 in the main branch, but dtype float32 in the else "
                                            "branch"):
            branches(tf.constant(3))


def test_lambdas_are_converted():
    def case(tf):
        pos = tf.function(lambda x: x * 2.0 if x > 0 else -x)
        neg = tf.function(lambda x: x if x < 0 else x * 3.0)
        out = [float(f(tf.constant(v))) for f in (pos, neg) for v in (-2.0, 5.0)]
        return out, [f.experimental_get_tracing_count() for f in (pos, neg)]
    (want, n1), (got, n2) = _both(case)
    assert want == got == [2.0, 10.0, -2.0, 15.0] and n1 == n2 == [1, 1]
    # TF cannot tell two lambdas on one line apart (its bool error); here the compiled code picks the right one
    pos, neg = ctf.function(lambda x: x * 2.0 if x > 0 else -x), ctf.function(lambda x: x if x < 0 else x * 3.0)
    assert [float(f(ctf.constant(v))) for f in (pos, neg) for v in (-2.0, 5.0)] == [2.0, 10.0, -2.0, 15.0]


def test_to_code_with_break_continue_and_return_is_valid_python_one_loop_call_per_loop():
    def f(x, n):
        count = 0
        for i in tf_real.range(n):
            if i == 2:
                continue
            j = 0
            while j < i:
                j += 1
                if j > 3:
                    break
            count += j
        if count > 5:
            return count
        return -count
    for tf in (tf_real, ctf):
        tree = ast.parse(tf.autograph.to_code(f))
        compile(tree, "<to_code>", "exec")
        names = [n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)]
        assert names.count("for_stmt") == 1 and names.count("while_stmt") == 1


def test_set_loop_options_lets_a_loop_variable_grow_and_caps_iterations():
    def case(tf):
        @tf.function
        def grow(n):
            x = tf.constant([1.0])
            while tf.size(x) < n:
                tf.autograph.experimental.set_loop_options(shape_invariants=[(x, tf.TensorShape([None]))])
                x = tf.concat([x, x * 2.0], 0)
            return x

        @tf.function
        def capped(n):
            total = tf.constant(0)
            for i in tf.range(n):
                tf.autograph.experimental.set_loop_options(maximum_iterations=4)
                total += i
            return total
        return ([_np(grow(tf.constant(k))) for k in (1, 3, 8)], [int(capped(tf.constant(k))) for k in (2, 10)],
                [f.experimental_get_tracing_count() for f in (grow, capped)])
    (g1, c1, n1), (g2, c2, n2) = _both(case)
    _close(g1, g2)
    assert c1 == c2 == [1, 6] and n1 == n2 == [1, 1]
