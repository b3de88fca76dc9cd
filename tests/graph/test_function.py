"""tf.function traces into a graph: differential tests against real TensorFlow.

Each case runs the same Python on TensorFlow and on course.tf and compares what a learner sees:
how often the body is traced, which side effects run when, what a symbolic tensor prints, when
a new signature retraces, the errors, and the op types of the traced graph.
"""
import sys

import numpy as np
import pytest

from course import tf as ctf

tf_real = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity
BOTH = pytest.mark.parametrize("tf", [tf_real, ctf], ids=["tensorflow", "course"])


def _run_both(case, capfd=None):
    out = []
    for tf in (tf_real, ctf):
        result = case(tf)
        text = capfd.readouterr().out if capfd is not None else None
        out.append((result, text))
    return out


def test_python_side_effects_run_while_tracing_and_tf_print_every_call(capfd):
    def case(tf):
        log = []

        @tf.function
        def f(x):
            log.append(1)
            print("traced with", x)
            tf.print("running", x, output_stream=sys.stdout)
            return x * 2

        y = [f(tf.constant([1.0, 2.0])).numpy().tolist() for _ in range(3)]
        return y, len(log), f.experimental_get_tracing_count()
    (want, want_out), (got, got_out) = _run_both(case, capfd)
    assert want == got == ([[2.0, 4.0]] * 3, 1, 1)
    assert got_out == want_out
    assert 'traced with Tensor("x:0", shape=(2,), dtype=float32)' in got_out
    assert got_out.count("running [1 2]") == 3


def test_retracing_rules(capfd):
    def case(tf):
        traced = []

        @tf.function
        def f(x, n=2):
            traced.append(str(x))
            return x * n

        f(tf.constant([1.0, 2.0]))
        f(tf.constant([5.0, 6.0]))            # same signature: no trace
        f(tf.constant([1.0, 2.0, 3.0]))       # new shape: trace
        f(tf.constant([1, 2]))                # new dtype: trace
        f(tf.constant([1.0, 2.0]), 3)         # new Python value: trace
        f(tf.constant([1.0, 2.0]), 3)
        f(np.array([1.0, 2.0], np.float32))   # numpy arrays count as tensors
        return traced, f.experimental_get_tracing_count()
    (want, _), (got, _) = _run_both(case, capfd)
    assert got == want
    assert got[1] == 4


def test_reduce_retracing_relaxes_to_unknown_dimensions():
    def case(tf):
        shapes = []

        @tf.function(reduce_retracing=True)
        def f(x):
            shapes.append(str(x))
            return x * 2

        for n in (2, 3, 4, 5):
            f(tf.ones([n]))
        return shapes, f.experimental_get_tracing_count()
    (want, _), (got, _) = _run_both(case)
    assert got == want
    assert got[0][-1] == 'Tensor("x:0", shape=(None,), dtype=float32)'


def test_input_signature_fixes_the_signature_and_a_mismatch_is_tfs_type_error():
    def case(tf):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
        def g(x):
            return x + 1

        ok = [g(tf.constant([1.0])).numpy().tolist(), g(tf.constant([1.0, 2.0])).numpy().tolist()]
        errors = []
        for bad in (tf.constant([1, 2]), tf.constant([[1.0]])):
            try:
                g(bad)
            except TypeError as exc:
                errors.append(str(exc))
        concrete = g.get_concrete_function()
        return ok, errors, g.experimental_get_tracing_count(), repr(concrete.structured_input_signature), \
            [op.type for op in concrete.graph.get_operations()]
    (want, _), (got, _) = _run_both(case)
    assert got == want


def test_concrete_function_graph_and_signatures():
    def case(tf):
        @tf.function
        def q(x, y):
            return tf.matmul(x, y)

        c = q.get_concrete_function(tf.TensorSpec([None, 3]), tf.TensorSpec([3, 1]))
        value = c(tf.ones([2, 3]), tf.ones([3, 1])).numpy().tolist()
        return ([n.op for n in c.graph.as_graph_def().node], [op.type for op in c.graph.get_operations()],
                repr(c.structured_input_signature), value, q.pretty_printed_concrete_signatures())
    (want, _), (got, _) = _run_both(case)
    assert got == want


def test_pretty_printed_signatures_with_python_arguments():
    def case(tf):
        @tf.function
        def f(x, n=2):
            return x * n
        f(tf.constant([1.0, 2.0]))
        f(tf.constant([1.0, 2.0]), 3)
        return f.pretty_printed_concrete_signatures()
    (want, _), (got, _) = _run_both(case)
    assert got == want


def test_variables_only_on_the_first_trace():
    def case(tf):
        class Holder:
            v = None
        h = Holder()
        traces = []

        @tf.function
        def once(x):
            traces.append(1)
            if h.v is None:
                h.v = tf.Variable(1.0)
            return x + h.v

        values = [float(once(tf.constant(1.0))), float(once(tf.constant(2.0)))]

        @tf.function
        def every(x):
            return x + tf.Variable(1.0)
        try:
            every(tf.constant(1.0))
            error = None
        except ValueError as exc:
            error = str(exc).strip().splitlines()[-1].strip().replace("ValueError: ", "")   # TF adds user frames
        return values, len(traces), once.experimental_get_tracing_count(), error
    (want, _), (got, _) = _run_both(case)
    assert got == want
    assert got[3].startswith("tf.function only supports singleton tf.Variables created on the first call.")


def test_assigns_and_prints_keep_program_order_and_unused_ops_are_pruned(capfd):
    def case(tf):
        v = tf.Variable(1.0)

        @tf.function
        def s(x):
            unused = x * 2   # noqa: F841 (pruned: nothing needs it)
            tf.print("before", v, output_stream=sys.stdout)
            v.assign_add(x)
            tf.print("after", v, output_stream=sys.stdout)
            return v.read_value()

        values = [float(s(tf.constant(1.0))), float(s(tf.constant(1.0)))]
        types = [op.type for op in s.get_concrete_function(tf.TensorSpec([], tf.float32)).graph.get_operations()]
        return values, float(v.numpy()), sorted(set(types) & {"AssignAddVariableOp", "PrintV2", "ReadVariableOp",
                                                            "Mul", "Placeholder", "Identity"})
    (want, want_out), (got, got_out) = _run_both(case, capfd)
    assert got == want == ([2.0, 3.0], 3.0, ["AssignAddVariableOp", "Identity", "Mul", "Placeholder", "PrintV2",
                                             "ReadVariableOp"])
    assert got_out == want_out == "before 1\nafter 2\nbefore 2\nafter 3\n"


def test_unused_ops_do_not_run_in_the_plan():
    v = ctf.Variable(1.0)

    @ctf.function
    def s(x):
        unused = ctf.reduce_sum(x * 3)   # noqa: F841
        v.assign(x)
        return x + 1

    s(ctf.constant(2.0))
    c = s.get_concrete_function(ctf.TensorSpec([], ctf.float32))
    ran = [n.op.type for n in c.plan.nodes]
    assert "Sum" not in ran and "AssignVariableOp" in ran
    assert float(v.numpy()) == 2.0


def test_gradient_tape_inside_a_traced_function_builds_gradient_ops():
    def case(tf):
        v = tf.Variable(2.0)

        @tf.function
        def grad(x):
            with tf.GradientTape() as tape:
                y = x * v * v
            return tape.gradient(y, v)

        g = float(grad(tf.constant(3.0)))
        types = [op.type for op in grad.get_concrete_function(tf.constant(3.0)).graph.get_operations()]
        return g, "ReadVariableOp" in types, "Mul" in types
    (want, _), (got, _) = _run_both(case)
    assert got == want == (12.0, True, True)


def test_training_step_traced_matches_eager():
    w0 = np.random.default_rng(0).normal(size=(3, 1)).astype(np.float32)
    x = np.random.default_rng(1).normal(size=(8, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    results = []
    for tf in (tf_real, ctf):
        w = tf.Variable(w0)

        @tf.function
        def step(xb, yb):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(tf.matmul(xb, w) - yb))
            g = tape.gradient(loss, w)
            w.assign_sub(0.1 * g)
            return loss

        losses = [float(step(tf.constant(x), tf.constant(y))) for _ in range(5)]
        results.append((losses, w.numpy(), step.experimental_get_tracing_count()))
    (lw, ww, cw), (lg, wg, cg) = results
    np.testing.assert_allclose(lg, lw, rtol=1e-5)
    np.testing.assert_allclose(wg, ww, rtol=1e-5)
    assert cw == cg == 1


def test_run_functions_eagerly(capfd):
    def case(tf):
        calls = []

        @tf.function
        def f(x):
            calls.append(1)
            return x + 1

        tf.config.run_functions_eagerly(True)
        try:
            for _ in range(3):
                f(tf.constant(1.0))
        finally:
            tf.config.run_functions_eagerly(False)
        return len(calls), tf.config.functions_run_eagerly()
    (want, _), (got, _) = _run_both(case, capfd)
    assert got == want == (3, False)


def test_methods_trace_once_per_instance():
    def case(tf):
        traces = []

        class Scale(tf.Module):
            def __init__(self, k):
                super().__init__()
                self.k = tf.Variable(k)

            @tf.function
            def __call__(self, x):
                traces.append(1)
                return x * self.k

        a, b = Scale(2.0), Scale(3.0)
        out = [float(a(tf.constant(1.0))), float(a(tf.constant(2.0))), float(b(tf.constant(1.0)))]
        return out, len(traces)
    (want, _), (got, _) = _run_both(case)
    assert got == want


def test_an_op_without_a_graph_form_runs_the_function_eagerly_with_one_warning():
    calls = []

    @ctf.function
    def f(x):
        calls.append(1)
        return ctf.unique(x)[0]          # no graph form yet

    with pytest.warns(RuntimeWarning, match="tf.unique"):
        first = f(ctf.constant([1, 1, 2]))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = f(ctf.constant([3, 3, 2]))
    assert first.numpy().tolist() == [1, 2] and second.numpy().tolist() == [3, 2]
    assert len(calls) == 3                # the failed trace, then one eager run per call


def _expert_model(tf):
    from course.tf.keras import layers

    class MyModel(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.conv1 = layers.Conv2D(4, 3, activation="relu")
            self.pool = layers.MaxPooling2D()
            self.flatten = layers.Flatten()
            self.d1 = layers.Dense(8, activation="relu")
            self.drop = layers.Dropout(0.5)
            self.d2 = layers.Dense(10)

        def call(self, x, training=False):
            x = self.flatten(self.pool(self.conv1(x)))
            return self.d2(self.drop(self.d1(x), training=training))
    return MyModel()


def test_keras_training_step_traces_into_graph_ops_and_matches_eager():
    import torch
    x = ctf.constant(np.random.default_rng(0).random((6, 8, 8, 1)).astype("float32"))
    y = ctf.constant(np.array([0, 1, 2, 3, 4, 5], np.uint8))
    models, losses = [_expert_model(ctf), _expert_model(ctf)], []
    for m in models:
        m(x)
    models[1].set_weights(models[0].get_weights())
    for traced, model in ((False, models[0]), (True, models[1])):
        loss_object = ctf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        optimizer = ctf.keras.optimizers.Adam()
        mean = ctf.keras.metrics.Mean()

        def step(images, labels):
            with ctf.GradientTape() as tape:
                loss = loss_object(labels, model(images, training=True))
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            mean(loss)
            return loss

        fn = ctf.function(step) if traced else step
        out = []
        for i in range(3):
            torch.manual_seed(i)
            out.append(float(fn(x, y)))
        losses.append((out, float(mean.result())))
        if traced:
            types = {op.type for op in fn.get_concrete_function(x, y).graph.get_operations()}
            assert {"Conv2D", "MaxPool", "MatMul", "BiasAdd", "Relu", "Reshape", "KerasDropout",
                    "SparseSoftmaxCrossEntropyWithLogits", "ResourceApplyAdam", "UpdateMetric"} <= types
            assert fn.experimental_get_tracing_count() == 1
    np.testing.assert_allclose(losses[1][0], losses[0][0], rtol=1e-5)
    assert losses[1][1] == pytest.approx(losses[0][1], rel=1e-5)
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(b, a, atol=1e-5)


def test_tf1_graph_session_and_saver_inside_an_eager_program(tmp_path):
    def case(tf):
        out = []
        g = tf.Graph()
        with g.as_default():
            x = tf.compat.v1.placeholder(tf.float32, shape=[None, 2], name="x")
            w = tf.Variable(tf.ones([2, 1]), name="w")
            b = tf.Variable(0.5, name="b")
            y = tf.nn.relu(tf.matmul(x, w) + b)
            loss = tf.reduce_mean(tf.square(y - 1.0))
            train = tf.compat.v1.train.GradientDescentOptimizer(0.1).minimize(loss)
            init = tf.compat.v1.global_variables_initializer()
            saver = tf.compat.v1.train.Saver()
            out.append((str(x), str(y.shape), tf.executing_eagerly()))
            with tf.compat.v1.Session() as sess:
                sess.run(init)
                for _ in range(3):
                    value, _ = sess.run([loss, train], feed_dict={x: [[1.0, 2.0], [0.5, -1.0]]})
                out.append((round(float(value), 5), sess.run(w).ravel().round(5).tolist()))
                path = saver.save(sess, str(tmp_path / (tf.__name__.replace(".", "_") + ".ckpt")))
            with tf.compat.v1.Session() as sess:
                saver.restore(sess, path)
                out.append((sess.run(w).ravel().round(5).tolist(), float(sess.run(b).round(5))))
        out.append((tf.executing_eagerly(), float(tf.reduce_sum(tf.ones([3])))))   # eager again outside
        return out
    (want, _), (got, _) = _run_both(case)
    assert got == want
    assert want[0] == ('Tensor("x:0", shape=(None, 2), dtype=float32)', "(None, 1)", False)


def test_an_unused_failing_op_fails_eagerly_but_is_pruned_when_traced():
    def case(tf):
        def unused_return(x):
            tf.gather(x, [1])            # index 1 is out of range for a one-element x
            return x
        try:
            unused_return(tf.constant([0.0]))
            eager = "ran"
        except tf.errors.InvalidArgumentError:
            eager = "InvalidArgumentError"
        traced = tf.function(unused_return)
        return eager, traced(tf.constant([0.0])).numpy().tolist(), \
            [op.type for op in traced.get_concrete_function(tf.constant([0.0])).graph.get_operations()]
    (want, _), (got, _) = _run_both(case)
    assert got == want == ("InvalidArgumentError", [0.0], ["Placeholder", "Const", "Const", "GatherV2", "Identity"])


def test_gather_in_a_traced_function_and_its_gradient():
    def case(tf):
        v = tf.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])

        @tf.function
        def f(i):
            with tf.GradientTape() as tape:
                y = tf.reduce_sum(tf.gather(v, i) * 2.0)
            return y, tape.gradient(y, v)
        y, g = f(tf.constant([2, 0, 2]))
        return float(y), tf.convert_to_tensor(g).numpy().tolist()
    (want, _), (got, _) = _run_both(case)
    assert got == want


def test_a_metric_called_in_a_traced_function_returns_its_result():
    mean = ctf.keras.metrics.Mean()

    @ctf.function
    def f(x):
        return mean(x)

    assert float(f(ctf.constant([1.0, 3.0]))) == 2.0
    assert float(f(ctf.constant([5.0, 7.0]))) == 4.0
    assert float(mean.result()) == 4.0 and f.experimental_get_tracing_count() == 1


def test_a_tape_around_a_traced_call_differentiates_through_it():
    def case(tf):
        w = tf.Variable(3.0)

        @tf.function
        def f(x):
            return x * w * w

        x = tf.constant(2.0)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            y = f(x)
        return float(tape.gradient(y, w)), float(tape.gradient(y, x))
    (want, _), (got, _) = _run_both(case)
    assert got == want == (12.0, 9.0)


def test_keras_model_in_a_traced_function_casts_float64_inputs_as_keras_does():
    model = ctf.keras.Sequential([ctf.keras.layers.Dense(3, activation="relu", input_shape=(4,)),
                                  ctf.keras.layers.Dense(2, activation="softmax")])
    x = np.random.default_rng(0).random((5, 4))                  # float64, as numpy / 255.0 gives

    @ctf.function
    def predict(m, batch):
        return m(batch)

    traced = predict(model, ctf.constant(x))
    assert traced.dtype == ctf.float32
    np.testing.assert_allclose(traced.numpy(), model(x).numpy(), rtol=1e-6)


def test_assertions_run_every_call_in_program_order(capfd):
    def case(tf):
        errors = []
        for check in (lambda: tf.debugging.assert_equal(tf.constant([1, 2]), tf.constant([1, 3])),
                      lambda: tf.debugging.Assert(tf.constant(False), ["x is", tf.constant(3.0)])):
            try:
                check()
            except tf.errors.InvalidArgumentError as exc:
                errors.append(type(exc).__name__)

        @tf.function
        def f(x):
            tf.print("checking", x, output_stream=sys.stdout)
            tf.debugging.assert_greater(x, 0.0, message="x must be positive")
            return x + 1

        ok = float(f(tf.constant(1.0)))
        try:
            f(tf.constant(-1.0))
            failed = None
        except tf.errors.InvalidArgumentError as exc:
            failed = ("x must be positive" in str(exc), "Condition x > y did not hold element-wise" in str(exc))
        types = {op.type for op in f.get_concrete_function(tf.constant(1.0)).graph.get_operations()}
        return errors, ok, failed, {"PrintV2", "Greater", "All"} <= types, f.experimental_get_tracing_count()
    (want, want_out), (got, got_out) = _run_both(case, capfd)
    assert got == want == (["InvalidArgumentError"] * 2, 2.0, (True, True), True, 1)
    assert got_out == want_out == "checking 1\nchecking -1\n"


def test_gradient_clipping_in_a_traced_step():
    def case(tf):
        w = tf.Variable([[3.0, -4.0]])

        @tf.function
        def step(x):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(tf.matmul(x, w, transpose_b=True) ** 2)
            (g,), norm = tf.clip_by_global_norm(tape.gradient(loss, [w]), 1.0)
            return g, norm, tf.clip_by_norm(w, 2.0)
        g, norm, clipped = step(tf.constant([[1.0, 2.0]]))
        return g.numpy().round(5).tolist(), round(float(norm), 4), clipped.numpy().round(5).tolist()
    (want, _), (got, _) = _run_both(case)
    assert got == want


def test_python_control_flow_on_a_tensor_is_converted_by_autograph():
    @ctf.function
    def relu_sum(x):
        if ctf.reduce_sum(x) > 0:         # AutoGraph makes this a tf.cond: one trace, no eager fallback
            return ctf.reduce_sum(x)
        return ctf.constant(0.0)

    assert float(relu_sum(ctf.constant([1.0, 2.0]))) == 3.0
    assert float(relu_sum(ctf.constant([-1.0, -2.0]))) == 0.0
    assert relu_sum.experimental_get_tracing_count() == 1


def test_eager_tensors_fed_to_a_session_inside_a_graph_block_are_values():
    c = ctf.constant([[1.0, 2.0]])            # made eagerly, before the graph
    with ctf.Graph().as_default():
        x = ctf.compat.v1.placeholder(ctf.float32, [None, 2])
        z = x * 3.0
        with ctf.compat.v1.Session() as sess:
            assert sess.run(z, feed_dict={x: c}).tolist() == [[3.0, 6.0]]


def test_batch_normalization_in_a_traced_step_matches_eager():
    x = ctf.constant(np.random.default_rng(3).normal(size=(8, 5, 5, 3)).astype("float32"))
    y = ctf.constant(np.arange(8) % 4)
    models = []
    for _ in range(2):
        models.append(ctf.keras.Sequential([ctf.keras.layers.Conv2D(4, 3, input_shape=(5, 5, 3)),
                                            ctf.keras.layers.BatchNormalization(),
                                            ctf.keras.layers.Flatten(), ctf.keras.layers.Dense(4)]))
        models[-1](x)
    models[1].set_weights(models[0].get_weights())
    results = []
    for model, traced in ((models[0], False), (models[1], True)):
        loss_fn = ctf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        opt = ctf.keras.optimizers.SGD(0.1)

        def step(a, b):
            with ctf.GradientTape() as tape:
                loss = loss_fn(b, model(a, training=True))
            opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
            return loss
        fn = ctf.function(step) if traced else step
        results.append(([float(fn(x, y)) for _ in range(3)], model.get_weights()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-5)
    for a, b in zip(results[0][1], results[1][1]):         # moving statistics included
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)


def test_a_traced_call_method_trains_with_fit():
    class Model(ctf.keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = ctf.keras.layers.Dense(2)

        @ctf.function
        def call(self, x):
            return self.dense(x) * 2.0

    model = Model()
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((3, 4), np.float32), np.zeros((3, 2), np.float32)
    losses = model.fit(x, y, epochs=3, verbose=0).history["loss"]
    assert losses[2] < losses[1] < losses[0]


def test_functional_models_trace():
    inputs = ctf.keras.Input((4,))
    hidden = ctf.keras.layers.Dense(3, activation="relu")(inputs)
    model = ctf.keras.Model(inputs, ctf.keras.layers.Dense(2, activation="softmax")(hidden))
    x = np.random.default_rng(0).random((5, 4)).astype("float32")
    traced = ctf.function(lambda batch: model(batch))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # no fallback to eager
        np.testing.assert_array_equal(traced(ctf.constant(x)).numpy(), model(x).numpy())
