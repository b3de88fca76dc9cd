"""What TF's guides print, printed the same: dtypes, Variables (tf and Keras 3), assign results.

Each case runs the same code on real TensorFlow / Keras and on course.tf and compares the text.
"""
import os

import numpy as np
import pytest
import torch

import course.tf as ctf

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
TF = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity


def both(fn):
    return fn(TF), fn(ctf)


def test_dtype_prints_as_tf():
    for name in ("float32", "float64", "int32", "int64", "bool", "uint8", "string"):
        ref, got = both(lambda m: (str(getattr(m, name)), repr(getattr(m, name))))
        assert got == ref
    ref, got = both(lambda m: str(m.as_dtype(m.constant([1.0]).dtype)))
    assert got == ref == "<dtype: 'float32'>"


def test_eager_dtype_stays_torch_but_compares_as_tf():
    """The documented trade-off: x.dtype is torch's, so torch code taking it keeps working."""
    x = ctf.constant([1.0, 2.0])
    assert x.dtype == ctf.float32 and x.dtype is torch.float32
    assert torch.zeros(2, dtype=x.dtype).dtype is torch.float32
    assert ctf.float32.is_floating_point and ctf.int32.is_signed and ctf.float64.itemsize == 8


def test_assign_prints_unread_variable():
    def run(m):
        v = m.Variable([1.0, 2.0])
        return repr(v.assign([3.0, 4.0])), repr(v.assign_add([1.0, 1.0])), repr(v.assign_sub([1.0, 1.0])), \
            v.assign([0.0, 0.0], read_value=False), repr(v), str(v)
    ref, got = both(run)
    assert got == ref


def test_unread_variable_shares_the_variable():
    v = ctf.Variable([1.0, 2.0])
    v.assign([5.0, 5.0]).assign([7.0, 8.0])
    np.testing.assert_array_equal(v.numpy(), [7.0, 8.0])


def test_convert_to_tensor_of_variable_is_a_tensor():
    def run(m):
        v = m.Variable([1.0, 2.0], name="w")
        t = m.convert_to_tensor(v)
        with m.GradientTape() as tape:
            y = m.reduce_sum(m.convert_to_tensor(v) * 3.0)
        return repr(t), isinstance(t, m.Tensor), isinstance(t, m.Variable), tape.gradient(y, v).numpy().tolist()
    ref, got = both(run)
    assert got == ref


def test_keras3_variable_names_and_repr():
    import keras
    from course.tf import keras as ckeras

    def run(k):
        d = k.layers.Dense(2, name="dense")
        d.build((None, 1))
        d.kernel.assign(np.array([[1.0, 2.0]], np.float32))
        out = d.kernel.assign(np.array([[1.0, 3.0]], np.float32))
        return (d.kernel.name, d.kernel.path, d.bias.name, d.bias.path, repr(d.kernel), str(d.bias),
                np.asarray(out).tolist(), [w.path for w in d.trainable_variables])
    assert run(ckeras) == run(keras)


def test_module_variables_order_and_repr():
    def run(m):
        class Lin(m.Module):
            def __init__(self, name=None):
                super().__init__(name=name)
                self.w = m.Variable(m.ones([2, 2]), name="w")
                self.b = m.Variable(m.zeros([2]), name="b")

        class Net(m.Module):
            def __init__(self):
                super().__init__()
                self.second = Lin(name="second")
                self.first = Lin(name="first")
        net = Net()
        text = repr(net)
        return ([v.name for v in net.trainable_variables], [s.name for s in net.submodules], net.name,
                text.startswith("<") and " object at 0x" in text and text.split(" object")[0].endswith(".Net"))
    ref, got = both(run)
    assert got == ref


def test_nested_module_order_is_tfs():
    def run(m):
        class Leaf(m.Module):
            def __init__(self, name=None):
                super().__init__(name=name)
                self.w = m.Variable(1.0, name=name + "_w")

        class Mid(m.Module):
            def __init__(self, name=None):
                super().__init__(name=name)
                self.z = Leaf(name + "_z")
                self.a = Leaf(name + "_a")
                self.v = m.Variable(2.0, name=name + "_v")

        class Top(m.Module):
            def __init__(self):
                super().__init__()
                self.m2 = Mid("m2")
                self.m1 = Mid("m1")
                self.layers = [Leaf("l0"), Leaf("l1")]
                self.d = {"b": Leaf("db"), "a": Leaf("da")}
                self.again = self.m1.a                       # met twice, listed once
        t = Top()
        return ([s.name for s in t.submodules], [v.name for v in t.trainable_variables],
                [v.name for v in t.m1.variables])
    ref, got = both(run)
    assert got == ref


def test_module_holding_a_keras_layer_collects_its_weights():
    class Holder(ctf.Module):
        def __init__(self):
            super().__init__()
            self.dense = ctf.keras.layers.Dense(2)
            self.dense.build((None, 3))
            self.scale = ctf.Variable(1.0, name="scale")
    h = Holder()
    assert [v.name for v in h.trainable_variables] == ["kernel", "bias", "scale:0"]


def test_gradients_flow_through_what_assign_returns():
    def run(m):
        v = m.Variable([1.0, 2.0])
        with m.GradientTape() as tape:
            y = m.reduce_sum(v.assign([3.0, 4.0]) * 2.0)
        return tape.gradient(y, v).numpy().tolist(), v.numpy().tolist()
    ref, got = both(run)
    assert got == ref
