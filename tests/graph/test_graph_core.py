"""Graph building: names, scopes, static shapes and TF's build-time errors, collections, table."""
import os

import numpy as np
import pytest
import torch

import course.tf.compat.v1 as tf
from course.graph.graph import get_default_graph


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield


def test_unique_names_like_tensorflow():
    a = tf.constant(1.0, name="x")
    b = tf.constant(2.0, name="x")
    c = tf.constant(3.0, name="x")
    assert [a.name, b.name, c.name] == ["x:0", "x_1:0", "x_2:0"]
    v1, v2 = tf.Variable(1.0), tf.Variable(2.0)
    assert (v1.op.name, v2.op.name) == ("Variable", "Variable_1")
    assert v1.name == "Variable:0"
    assert v2.initializer.name == "Variable_1/Assign"


def test_name_scopes_prefix_and_uniquify():
    with tf.name_scope("layer"):
        a = tf.constant(1.0)
        with tf.name_scope("inner") as scope:
            b = tf.constant(1.0)
    with tf.name_scope("layer"):
        c = tf.constant(1.0)
    assert a.op.name == "layer/Const"
    assert scope == "layer/inner/"
    assert b.op.name == "layer/inner/Const"
    assert c.op.name == "layer_1/Const"


def test_variable_scope_and_get_variable_share_by_name():
    with tf.variable_scope("fc"):
        w = tf.get_variable("w", [3, 2], initializer=tf.zeros_initializer())
    with tf.variable_scope("fc", reuse=True):
        w2 = tf.get_variable("w")
    assert w2 is w and w.op.name == "fc/w"
    with pytest.raises(ValueError, match="already exists, disallowed"):
        with tf.variable_scope("fc"):
            tf.get_variable("w", [3, 2])
    with pytest.raises(ValueError, match="does not exist"):
        with tf.variable_scope("other", reuse=True):
            tf.get_variable("nope", [1])
    with tf.variable_scope("fc", reuse=tf.AUTO_REUSE):
        assert tf.get_variable("w", [3, 2]) is w


def test_lookup_by_name_and_errors():
    x = tf.placeholder(tf.float32, (None, 2), name="x-input")
    g = get_default_graph()
    assert g.get_tensor_by_name("x-input:0") is x
    assert g.get_operation_by_name("x-input") is x.op
    with pytest.raises(KeyError, match="The operation, 'nope', does not exist in the graph"):
        g.get_tensor_by_name("nope:0")
    with pytest.raises(KeyError, match="exists but only has 1 outputs"):
        g.get_tensor_by_name("x-input:3")
    with pytest.raises(KeyError, match="refers to an Operation not in the graph"):
        g.get_operation_by_name("nope")
    with pytest.raises(ValueError, match="The name 'x-input' refers to an Operation, not a Tensor.*Did you mean "
                                         "'x-input:0'"):
        g.get_tensor_by_name("x-input")         # TF's text for a name that is an op's
    with pytest.raises(ValueError, match="looks like an \\(invalid\\) Operation name"):
        g.get_tensor_by_name("nope")


def test_static_shapes_and_dtypes():
    x = tf.placeholder(tf.float32, (None, 784))
    w = tf.Variable(tf.zeros([784, 10]))
    y = tf.matmul(x, w) + tf.zeros([10])
    assert y.shape.as_list() == [None, 10] and y.dtype == torch.float32
    r = tf.reshape(x, [-1, 28, 28, 1])
    assert r.shape.as_list() == [None, 28, 28, 1]
    c = tf.nn.conv2d(r, tf.zeros([5, 5, 1, 32]), strides=[1, 1, 1, 1], padding="SAME")
    assert c.shape.as_list() == [None, 28, 28, 32]
    p = tf.nn.max_pool(c, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
    assert p.shape.as_list() == [None, 14, 14, 32]
    v = tf.nn.conv2d(r, tf.zeros([5, 5, 1, 8]), strides=[1, 2, 2, 1], padding="VALID")
    assert v.shape.as_list() == [None, 12, 12, 8]
    assert tf.reduce_mean(x).shape.as_list() == []
    assert tf.reduce_sum(x, reduction_indices=[1], keep_dims=True).shape.as_list() == [None, 1]
    assert tf.argmax(y, 1).dtype == torch.int64 and tf.argmax(y, 1).shape.as_list() == [None]
    assert tf.equal(x, x).dtype == torch.bool
    assert x[:, 1:3].shape.as_list() == [None, 2]
    assert x[0].shape.as_list() == [784]
    assert tf.concat([x, x], 1).shape.as_list() == [None, 1568]
    assert tf.transpose(w).shape.as_list() == [10, 784]
    assert tf.constant(np.zeros(3)).dtype == torch.float64       # numpy float64 stays float64, as in TF
    assert tf.constant([1, 2]).dtype == torch.int32 and tf.constant(1.5).dtype == torch.float32


def test_shape_errors_name_the_op_and_both_shapes():
    x = tf.placeholder(tf.float32, (None, 3))
    w = tf.placeholder(tf.float32, (4, 1))
    with pytest.raises(ValueError) as e:
        tf.matmul(x, w)
    assert str(e.value) == ("Dimensions must be equal, but are 3 and 4 for 'MatMul' (op: 'MatMul') with input "
                            "shapes: [?,3], [4,1].")
    with pytest.raises(ValueError, match=r"Dimensions must be equal, but are 2 and 3 for 'add' \(op: 'AddV2'\) "
                                         r"with input shapes: \[2\], \[3\]"):
        tf.constant([1.0, 2.0]) + tf.constant([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="Cannot reshape a tensor with 6 elements"):
        tf.reshape(tf.zeros([2, 3]), [4])
    img = tf.placeholder(tf.float32, (None, 28, 28, 3))
    with pytest.raises(ValueError, match=r"but are 3 and 1 for 'Conv2D'.*\[\?,28,28,3\], \[5,5,1,32\]"):
        tf.nn.conv2d(img, tf.zeros([5, 5, 1, 32]), strides=[1, 1, 1, 1], padding="SAME")
    with pytest.raises(TypeError, match="does not match type float32"):
        tf.constant(1.0) + tf.constant(1)


def test_tensors_from_two_graphs_cannot_meet():
    g1, g2 = tf.Graph(), tf.Graph()
    with g1.as_default():
        a = tf.constant(1.0)
    with g2.as_default():
        b = tf.constant(2.0)
    with pytest.raises(ValueError, match="must be from the same graph"):
        tf.add(a, b)


def test_operators_build_ops_and_python_values_take_the_tensor_dtype():
    x = tf.placeholder(tf.float32, (None, 2))
    assert (x + 1).op.type == "AddV2" and (1 - x).op.type == "Sub" and (2 * x).op.type == "Mul"
    assert (x / 2).op.type == "RealDiv" and (-x).op.type == "Neg" and (x @ tf.zeros([2, 1])).op.type == "MatMul"
    assert (x > 0).dtype == torch.bool
    assert (np.ones((1, 2)) + x).op.type == "AddV2"        # numpy defers to the tensor
    with pytest.raises(TypeError, match="not allowed"):
        bool(x)
    with pytest.raises(TypeError):
        tf.constant(1) * 1.5                                # 1.5 cannot become an int32 constant


def test_collections_and_initializers():
    a = tf.Variable(1.0)
    b = tf.Variable(2.0, trainable=False)
    assert tf.global_variables() == [a, b]
    assert tf.trainable_variables() == [a]
    init = tf.global_variables_initializer()
    assert init.type == "NoOp" and set(init.control_inputs) == {a.initializer, b.initializer}
    assert tf.initialize_all_variables().type == "NoOp"
    assert tf.variables_initializer([a]).control_inputs == [a.initializer]


def test_table_lists_the_nodes():
    x = tf.placeholder(tf.float32, (None, 2), name="x-input")
    tf.matmul(x, tf.Variable(tf.zeros([2, 1])))
    table = get_default_graph().table()
    lines = table.splitlines()
    assert lines[0].split() == ["name", "op", "inputs", "output", "device"]
    assert any(line.startswith("x-input") and "Placeholder" in line and "(?, 2) float32" in line for line in lines)
    assert any(line.startswith("MatMul") and "x-input:0, Variable/read:0" in line for line in lines)


def test_device_and_control_dependency_scopes_are_recorded():
    g = tf.Graph()
    with g.as_default():
        with g.device("/gpu:0"):
            a = tf.constant(1.0)
        b = tf.constant(2.0)
        with tf.control_dependencies([a]):
            c = tf.identity(b)
    assert a.op.device == "/gpu:0" and b.op.device == ""
    assert c.op.control_inputs == [a.op]


def test_unsupported_names_say_so_and_suggest():
    with pytest.raises(NotImplementedError, match="tf.contrib"):
        tf.contrib
    assert not hasattr(tf, "definitely_not_a_tf_name")
    with pytest.raises(NotImplementedError, match="Nearest supported: tf.compat.v1.reduce_mean"):
        tf.reduce_meen
    tf.disable_eager_execution()
    tf.disable_v2_behavior()
    assert tf.executing_eagerly() is False


HOSTILE_NAMES = ["z\n    __import__('os').system('touch PWNED') #", "a\nb", "a\rb", "a'b", 'a"b', "a#b", "a\u2028b",
                 "a b", "_x", "x\n", "é"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_op_names_are_refused_when_the_graph_is_built(name, tmp_path, monkeypatch):
    """TF's name rule, checked at build time: no name can reach the compiled plan's source."""
    monkeypatch.chdir(tmp_path)
    a = tf.placeholder(tf.float32, name="a")
    with pytest.raises(ValueError, match="is not a valid root scope name") as err:
        tf.add(a, 1.0, name=name)
    assert "Use letters, digits" in str(err.value)
    with pytest.raises(ValueError, match="is not a valid"):
        tf.Variable(1.0, name=name)
    if name not in ("_x",):                       # '_x' is a valid name inside a scope, as in TF
        with tf.name_scope("outer"):
            with pytest.raises(ValueError, match="is not a valid scope name"):
                tf.add(a, 1.0, name=name)
            with pytest.raises(ValueError, match="is not a valid scope name"):
                with tf.name_scope(name):
                    pass
    with pytest.raises(ValueError, match="is not a valid root scope name"):
        with tf.name_scope(name):
            pass
    assert {op.type for op in get_default_graph().get_operations()} <= {"Placeholder", "Const"}   # inputs only
    with tf.Session() as sess:
        assert sess.run(tf.add(a, 1.0, name="ok"), {a: 1.0}) == 2.0
    assert os.listdir(tmp_path) == []                 # no command ran


def test_every_valid_name_character_runs_in_the_compiled_plan():
    a = tf.placeholder(tf.float32, name="in.put")
    with tf.name_scope("s"):
        b = tf.add(a, 1.0, name="_a.b-c/d>e\\f")
    assert b.op.name == "s/_a.b-c/d>e\\f"
    with tf.Session() as sess:
        assert sess.run(b, {a: 2.0}) == 3.0


def test_the_rule_matches_tensorflows():
    real = pytest.importorskip("tensorflow")
    from tensorflow.python.framework import ops as real_ops
    from course.graph import graph as ours
    assert "^" + ours._VALID_ROOT_NAME.pattern + "$" == real_ops._VALID_OP_NAME_REGEX.pattern
    assert "^" + ours._VALID_SCOPE_NAME.pattern + "$" == real_ops._VALID_SCOPE_NAME_REGEX.pattern
    g = real.Graph()
    with g.as_default():
        x = real.compat.v1.placeholder(real.float32, name="x")
        for name in HOSTILE_NAMES:
            if name == "x\n":
                continue                          # TF's `$` lets one trailing newline through; we do not
            with pytest.raises(ValueError, match="is not a valid root scope name"):
                real.add(x, 1.0, name=name)
