"""`tf.Variable` in eager code: a mutable, named leaf tensor that is also a `torch.nn.Parameter`.

Being a Parameter, it registers in `nn.Module`s and works with `torch.optim`; being an EagerTensor
(course.tape.tensor), results computed from it expose `.numpy()`. `assign`, `assign_add` and
`assign_sub` update it in place; inside a graph being built (TF1 code, a traced tf.function) they and
the constructor hand over to the graph engine through the hooks in course.tape.tensor
(read at call time: the graph engine
rebinds GRAPH_STACK).
"""
import functools

import torch

import course.device
from course.framework import dtypes
from course.framework.convert import no_dispatch
from course.tape import tensor as _tensor
from course.tape.indexing import getitem_plain
from course.tape.tensor import EagerTensor, _tf_repr, convert, to_numpy, to_tensor

__all__ = ["Variable"]


_IADD_ERROR = ("`variable {op}= value` with `tf.Variable`s is not supported. Use `variable.{method}(value)` to "
               "modify the variable, or `out = variable {op} value` if you need to get a new output Tensor.")


class Variable(EagerTensor, torch.nn.Parameter):
    """`tf.Variable`: a mutable, named leaf tensor; also a `torch.nn.Parameter`.

    Being a Parameter, it registers in `nn.Module`s and works with `torch.optim`; being an
    EagerTensor, results computed from it expose `.numpy()`. `trainable=False` variables do not
    require grad (BatchNorm's moving statistics, step counters).
    """

    _tf_variable = True          # how course.tape.tensor tells Variables apart without importing this module

    def __new__(cls, initial_value=None, trainable=True, name=None, dtype=None, shape=None, **kwargs):
        if initial_value is None:
            raise ValueError("tf.Variable needs an initial_value "
                "(a tensor, array, number or a callable returning one).")
        # inside `with tf.Graph().as_default():` (TF1 style)
        if _tensor.GRAPH_STACK and _tensor.graph_hooks:
            made = _tensor.graph_hooks["graph_variable"](initial_value, trainable, name, dtype, shape)
            if made is not None:
                return made
        if callable(initial_value):
            initial_value = initial_value()
        # tf.Variable converts as tf.constant does (numpy float64 stays float64; 1.5 is no int32);
        # Keras' variables (subclasses) take Keras' floatx
        data = to_tensor(initial_value, dtype) if cls is Variable else convert(initial_value, dtype)
        with no_dispatch():
            data = data.detach().clone() if isinstance(initial_value, torch.Tensor) else data
            data = data.as_subclass(torch.Tensor)
            if not isinstance(initial_value, torch.Tensor) and data.device.type == "cpu":
                data = data.to(course.device.get())
        requires = bool(trainable) and (data.is_floating_point() or data.is_complex())
        v = torch.Tensor._make_subclass(cls, data, requires)
        v._name = name or "Variable"
        v._trainable = bool(trainable)
        for hook in _tensor.variable_creation_hooks:
            hook(v)
        return v

    def __init__(self, *args, **kwargs):
        pass

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        with no_dispatch():
            data = self.detach().clone()
        out = type(self)(data, trainable=self._trainable, name=self._name)
        memo[id(self)] = out
        return out

    def __reduce_ex__(self, proto):
        return (_rebuild_variable, (to_numpy(self).copy(), self._trainable, self._name))

    __torch_function__ = EagerTensor.__torch_function__

    @property
    def name(self):
        return f"{self._name}:0"

    def __repr__(self, *, tensor_contents=None):
        shown = "UnreadVariable" if self._name == "UnreadVariable" else self.name
        return _tf_repr(self, "tf.Variable", f"'{shown}'", sep="")

    @property
    def trainable(self):
        return self._trainable

    def _graph_tensor(self):
        """This variable read inside the graph being built (a ReadVariableOp)."""
        return _tensor.graph_hooks["read"](self)

    def _in_graph(self, value):
        return _tensor.graph_hooks and (_tensor.GRAPH_STACK or _tensor.graph_hooks["is_symbolic"](value))

    def assign(self, value, use_locking=None, name=None, read_value=True):
        """In place: var = value (shape and dtype must match)."""
        if self._in_graph(value):
            return _tensor.graph_hooks["variable_method"](self, "assign", value, name=name)
        value = self._converted(value)
        if tuple(value.shape) != tuple(self.shape):
            raise ValueError(f"Cannot assign a value of shape {tuple(value.shape)} to variable '{self._name}' "
                             f"of shape {tuple(self.shape)}.")
        with torch.no_grad(), no_dispatch():
            torch.Tensor.copy_(self, value)
        return self._unread(read_value)

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        if self._in_graph(delta):
            return _tensor.graph_hooks["variable_method"](self, "assign_add", delta, name=name)
        with torch.no_grad(), no_dispatch():
            torch.Tensor.add_(self, self._converted(delta))
        return self._unread(read_value)

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        if self._in_graph(delta):
            return _tensor.graph_hooks["variable_method"](self, "assign_sub", delta, name=name)
        with torch.no_grad(), no_dispatch():
            torch.Tensor.sub_(self, self._converted(delta))
        return self._unread(read_value)

    def scatter_nd_update(self, indices, updates, name=None):
        """In place: self[indices[k]] = updates[k] (indices' last axis indexes the first axes)."""
        return self._scatter_nd(indices, updates, "update")

    def scatter_nd_add(self, indices, updates, name=None):
        """In place: self[indices[k]] += updates[k] (repeated indices add up)."""
        return self._scatter_nd(indices, updates, "add")

    def scatter_nd_sub(self, indices, updates, name=None):
        """In place: self[indices[k]] -= updates[k] (repeated indices add up)."""
        return self._scatter_nd(indices, updates, "sub")

    def _scatter_nd(self, indices, updates, how):
        if _tensor.GRAPH_STACK:
            raise NotImplementedError(f"Variable.scatter_nd_{how} inside a traced tf.function or a TF1 graph is not "
                                      f"supported; use tf.tensor_scatter_nd_{how} and assign the result.")
        idx = to_tensor(indices).long()
        upd = self._converted(updates)
        with torch.no_grad(), no_dispatch():
            idx, upd = idx.to(self.device), upd.to(self.device)
            key = tuple(idx[..., i] for i in range(idx.shape[-1]))
            torch.Tensor.index_put_(self, key, -upd if how == "sub" else upd, accumulate=how != "update")
        return self._unread(True)

    def _converted(self, value):
        """`value` as this variable's dtype, as TF converts it: a tensor of another dtype is TF's ValueError
        and a Python float for an integer variable its TypeError (numpy values are cast). Keras'
        variables (subclasses) cast, as Keras does."""
        if type(self) is Variable:
            if isinstance(value, torch.Tensor) and value.dtype != self.dtype:
                raise ValueError(f"Tensor conversion requested dtype {dtypes.name(self.dtype)} for Tensor with "
                                 f"dtype {dtypes.name(value.dtype)}: {value!r}. tf.cast the value to the "
                                 f"variable's dtype first.")
            if not isinstance(value, torch.Tensor):
                return to_tensor(value, self.dtype, device=self.device)
        return convert(value, self.dtype, device=self.device)

    def _unread(self, read_value):
        """What TF's eager assign returns: None without read_value, else the same variable under the
        name 'UnreadVariable': a view of this one (assigning through it updates this one, and gradients
        of what is computed from it reach this one, as TF's reads of the shared handle do)."""
        if not read_value:
            return None
        with no_dispatch(), torch.enable_grad():
            alias = torch.Tensor.view_as(self, self).as_subclass(Variable)
        alias._name, alias._trainable, alias._unread_of = "UnreadVariable", self._trainable, self
        return alias

    def __getitem__(self, key):
        """A slice, as a tensor; on a tf.Variable it also has TF's `.assign(value)`, which writes the
        value (broadcast to the slice) into the variable: `v[0, 1:].assign([7.0, 8.0])`."""
        out = EagerTensor.__getitem__(self, key)
        if type(self) is Variable and not _tensor.GRAPH_STACK and isinstance(out, EagerTensor):
            out.assign = functools.partial(_assign_slice, self, key)
        return out

    def read_value(self):
        if _tensor.GRAPH_STACK and _tensor.graph_hooks:
            return _tensor.graph_hooks["variable_method"](self, "read_value")
        with no_dispatch():
            return torch.Tensor.clone(self).detach().as_subclass(EagerTensor)

    def value(self):
        return self

    def __str__(self):
        return self.__repr__()

    # `v += 1` rebinds in TF 1 graphs and is refused in TF 2; engines updating in place under
    # torch.no_grad() (optimizers) still may.
    def _inplace(op, method, torch_name):
        def f(self, other):
            if torch.is_grad_enabled():
                raise RuntimeError(_IADD_ERROR.format(op=op, method=method))
            with no_dispatch():
                return getattr(torch.Tensor, torch_name)(self, other)
        return f

    __iadd__ = _inplace("+", "assign_add", "__iadd__")
    __isub__ = _inplace("-", "assign_sub", "__isub__")
    __imul__ = _inplace("*", "assign", "__imul__")
    __itruediv__ = _inplace("/", "assign", "__itruediv__")
    del _inplace


def _assign_slice(var, key, value, use_locking=None, name=None, read_value=True):
    """var[key] = value, TF's sliced assign (any key `var[key]` reads, negative steps included)."""
    from course.framework.errors import InvalidArgumentError
    value = var._converted(value)
    with torch.no_grad(), no_dispatch():
        flat = torch.arange(var.numel(), device=var.device).reshape(var.shape)
        where = getitem_plain(flat, key)                    # the positions var[key] reads
        try:
            value = value.to(var.device).expand(where.shape)
        except RuntimeError:
            raise InvalidArgumentError(None, None, f"sliced l-value shape {list(where.shape)} does not match r-value "
                                       f"shape {list(value.shape)} [Op:ResourceStridedSliceAssign]") from None
        torch.Tensor.view(var, -1)[where.reshape(-1)] = value.reshape(-1)
    return var._unread(read_value)


def _rebuild_variable(array, trainable, name):
    return Variable(array, trainable=trainable, name=name)
