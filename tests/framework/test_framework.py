"""course.framework's conversion rules against TensorFlow 2.21 (dtypes of Python values, true
division, shape printing) and against torch (what `as_plain` hands back); its identifier registry
against Keras 3's wording."""
import numpy as np
import pytest
import torch

tf = pytest.importorskip("tensorflow")

import course.initializers as I
import course.losses as L
import course.optim as O
from course.framework import dtypes
from course.framework.identifiers import NO_DEFAULT, Registry
from course.framework.convert import as_plain, infer_dtype, no_dispatch, python_array, true_division_dtype
from course.framework.shapes import shape_text
from course.tape.tensor import EagerTensor
from course.tape.variables import Variable

VALUES = [3, 2**40, 1.5, True, [1, 2], [1.0, 2.5], [[1, 2], [3, 4]], [True, False], [np.int8(1), np.int8(2)],
          [np.uint8(1)], [np.int32(1), 2**40], [np.float16(1.0)], [np.float32(1.0)], np.int16(3), np.float64(2.0),
          np.arange(3), np.ones((2, 2)), np.ones(2, dtype=np.float16), []]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_infer_dtype_is_tf_constants(value):
    want = tf.constant(value).dtype.name
    assert dtypes.name(infer_dtype(value)) == want
    assert python_array(value).dtype == np.dtype(want)


@pytest.mark.parametrize("name", ["int8", "int16", "int32", "int64", "uint8", "float32", "float64"])
def test_true_division_table_is_tf_truediv(name):
    out = tf.math.truediv(tf.constant([3], dtype=name), tf.constant([2], dtype=name)).dtype.name
    got = true_division_dtype(dtypes.as_torch_dtype(name))
    assert (dtypes.name(got) if got is not None else name) == out


@pytest.mark.parametrize("shape", [(), (5,), (2, 3), (None, 4)])
def test_shape_text_is_tf_repr(shape):
    t = tf.zeros([1 if d is None else d for d in shape])
    assert f"shape={shape_text(t.shape)}" in repr(t) or None in shape
    assert shape_text(shape) == str(tuple(shape))


def test_as_plain_options():
    v = Variable(np.array([1.0, 2.0]), dtype="float64")
    x = as_plain(v)
    assert type(x) is torch.Tensor and x.data_ptr() == v.data_ptr() and x.requires_grad
    y = as_plain(v, detach=True, floatx=True, clone=True)
    assert type(y) is torch.Tensor and y.dtype == torch.float32 and not y.requires_grad
    z = as_plain(v, detach=True, clone=True)
    assert z.data_ptr() != v.data_ptr() and torch.equal(z, torch.tensor([1.0, 2.0], dtype=torch.float64))
    assert as_plain(v, dtype=torch.float16).dtype == torch.float16
    assert as_plain(None) is None and as_plain(3) == 3
    e = torch.ones(2).as_subclass(EagerTensor)
    with no_dispatch():
        assert type(e + 1) is torch.Tensor          # dispatch off: torch's own result type
    assert type(e + 1) is EagerTensor


# --- identifiers: one resolver, Keras 3's wording first ------------------------------------------------


@pytest.mark.parametrize("ours, keras_get, bad", [
    (O.get, "optimizers", "adm"), (L.get, "losses", "msee"), (I.get, "initializers", "glorot")])
def test_unknown_name_starts_with_keras_wording(ours, keras_get, bad):
    keras = pytest.importorskip("keras")
    with pytest.raises(ValueError) as theirs:
        getattr(keras, keras_get).get(bad)
    with pytest.raises(ValueError) as mine:
        ours(bad)
    assert str(mine.value).startswith(str(theirs.value) + ". Expected ")
    assert "valid names: " in str(mine.value)


def test_registry_resolves_every_identifier_form():
    class Base:
        pass

    class Adam(Base):
        def __init__(self, lr=0.001):
            self.lr = lr

    class Built(Base):
        @classmethod
        def from_config(cls, config):
            return ("from_config", config)

    def fn():
        return 1

    reg = Registry("widget", {"adam": Adam, "built": Built, "fn": fn}, base=Base, ignore_case=True)
    assert isinstance(reg.get("ADAM"), Adam) and reg.get("fn") is fn
    assert reg.get({"class_name": "Adam", "config": {"lr": 0.5}}).lr == 0.5           # cls(**config)
    assert reg.get({"class_name": "Built", "config": {"a": 1}}) == ("from_config", {"a": 1})
    obj = Adam()
    assert reg.get(obj) is obj and isinstance(reg.get(Adam), Adam) and reg.get(None) is None
    assert reg.get(len) is len
    with pytest.raises(ValueError, match=r"identifier: \{'class_name': 'Nope'\}.*valid class names: Adam, Built\."):
        reg.get({"class_name": "Nope"})
    strict = Registry("widget", {"adam": Adam}, callables=False, none=NO_DEFAULT, classes={})
    with pytest.raises(TypeError,
                       match="Could not interpret widget identifier: None. Expected a name; valid names: adam."):
        strict.get(None)
    with pytest.raises(TypeError, match="identifier: 3"):
        strict.get(3)
