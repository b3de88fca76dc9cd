"""`Layer`: a `torch.nn.Module` that behaves like a Keras 3 layer.

- Weights are KerasVariables (`course.tape.Variable`s named as Keras 3 names them), created by
  `build(input_shape)` on the first call, or at once when the input shape is known.
- Names follow Keras: the class name in snake case, made unique per session ("dense", "dense_1").
- `layer(x)` takes numpy arrays, tensors or EagerTensors, casts float64 to float32 (Keras' floatx),
  moves them to `course.device.get()` and returns an EagerTensor. As in TensorFlow, a call records
  for gradients only inside a recording `GradientTape` (or a `recording_gradients()` block, for
  torch-style loops such as DDP's `loss.backward()`). Inside, everything runs on
  plain torch tensors: subclass dispatch is switched off for the whole call, so a nested call
  (a layer inside a model) costs what the torch op costs.
- `training=None` means "ask the enclosing call"; the outermost call defaults to inference
  (Dropout off, BatchNormalization on its moving statistics), as `model(x)` does in Keras.
- Regularizers: `kernel_regularizer`-style weight penalties are computed fresh by `losses`;
  an `activity_regularizer` adds `penalty(output) / batch` on every call.
"""
import collections
import contextlib
import inspect
import re

import numpy as np
import torch

import course.device
from course.framework.convert import as_plain, no_dispatch
from course.tape import EagerTensor
from course.tape import tensor as _tape_tensor
from course.tape.gradient_tape import note_variable_read, recording_tapes
from course.keras import regularizers as regularizers_module
from course.keras.layers.call_context import call_context, graph_tensor, records
from course.keras.layers.conversion import first, map_structure, plain, to_tensor, wrap
from course.keras.layers.symbolic import KerasTensor, call_symbolic, dry_run_shape
from course.keras.layers.weight_budget import charge
from course.keras.variables import KerasVariable

__all__ = ["Layer", "unique_name", "clear_session", "to_snake_case"]

_uids = collections.defaultdict(int)

def to_snake_case(name: str) -> str:
    """'MaxPooling2D' -> 'max_pooling2d', as Keras names layers."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix: str) -> str:
    """prefix, prefix_1, prefix_2, ... per session (reset by `clear_session`)."""
    n = _uids[prefix]
    _uids[prefix] += 1
    return prefix if n == 0 else f"{prefix}_{n}"


def clear_session() -> None:
    """Forget the names handed out so far (`keras.backend.clear_session()`)."""
    _uids.clear()


class Layer(torch.nn.Module):
    """Base class of every Keras-style layer (and of `Model`).

    Subclasses define `build(self, input_shape)` (create weights with `add_weight`) and
    `call(self, inputs, training=None)` on plain torch tensors.
    """

    _takes_training = None          # per class: does call() accept `training`?

    def __init__(self, *, trainable=True, name=None, dtype=None, autocast=True, activity_regularizer=None,
                 input_shape=None, input_dim=None, batch_input_shape=None, batch_size=None, **kwargs):
        super().__init__()
        if kwargs:
            raise TypeError(f"{type(self).__name__}() got unexpected keyword argument(s) {sorted(kwargs)}.")
        if dtype not in (None, "float32", torch.float32) and getattr(dtype, "get", None) is None:
            raise NotImplementedError(f"{type(self).__name__}(dtype={dtype!r}): only float32 layers are supported.")
        object.__setattr__(self, "_tracked", [])          # attribute names of sub-layers, in assignment order
        self.name = name if name is not None else unique_name(to_snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self.built = False
        self.activity_regularizer = regularizers_module.get(activity_regularizer)
        self._own_weights = []                           # Variables in creation order
        self._weight_regularizers = []                   # (regularizer, Variable)
        self._last_losses = []                           # activity losses of the last outermost call
        self._build_input_shape = None
        self._output_shape = None
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            self._input_shape_arg = tuple(batch_input_shape)
        elif input_shape is not None:
            self._input_shape_arg = (batch_size,) + tuple(input_shape)
        else:
            self._input_shape_arg = None
        cls = type(self)
        if cls.__dict__.get("_takes_training") is None:
            params = inspect.signature(cls.call).parameters
            cls._takes_training = "training" in params or any(
                p.kind == p.VAR_KEYWORD for p in params.values())

    # -- tracking ---------------------------------------------------------------------------------
    def __setattr__(self, name, value):
        is_list = (isinstance(value, (list, tuple)) and value and all(isinstance(v, Layer) for v in value))
        if isinstance(value, Layer) or is_list:
            tracked = self.__dict__.get("_tracked")
            if tracked is not None and name not in tracked:
                tracked.append(name)
            if is_list:                     # a list of layers: each registered as a torch sub-module
                for i, v in enumerate(value):
                    torch.nn.Module.add_module(self, f"{name}_{i}", v)
                self.__dict__[name] = value
                return
        super().__setattr__(name, value)

    def _sublayers(self):
        """Directly tracked sub-layers, in the order they were assigned (Keras' `_layers`)."""
        out = []
        for name in self._tracked:
            value = getattr(self, name, None)
            if isinstance(value, Layer):
                out.append(value)
            elif isinstance(value, (list, tuple)):
                out.extend(v for v in value if isinstance(v, Layer))
        return out

    def _flatten_layers(self):
        """This layer and every layer below it, depth first, each once."""
        seen, out = set(), []

        def visit(layer):
            if id(layer) in seen:
                return
            seen.add(id(layer))
            out.append(layer)
            for sub in layer._sublayers():
                visit(sub)
        visit(self)
        return out

    # -- weights ----------------------------------------------------------------------------------
    # What `training` is when a layer is called on its own without it: False, but True for Keras 3's
    # augmentation layers (their call(data, training=True)); inside a model the model's mode wins.
    _call_training_default = False

    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True, regularizer=None,
                   constraint=None, name=None, **kwargs):
        """Create a Variable of `shape`, initialised by `initializer` (default glorot_uniform for
        float weights, as Keras), registered on this layer; `regularizer` adds to `losses`."""
        from course.keras import initializers as initializers_module
        shape = tuple(int(s) for s in (shape or ()))
        charge(self, name or "variable", shape)
        init = initializers_module.get(initializer if initializer is not None else "glorot_uniform")
        value = init(shape, dtype=torch.float32 if dtype is None else dtype)
        value = torch.as_tensor(value).to(course.device.get())
        var = KerasVariable(value, trainable=trainable, name=f"{self.name}/{name or 'variable'}")  # Keras 3 names
        attr = name if name and name.isidentifier() and name not in self._parameters else f"_w{len(self._own_weights)}"
        self.register_parameter(attr, var)
        self._own_weights.append(var)
        regularizer = regularizers_module.get(regularizer)
        if regularizer is not None:
            self._weight_regularizers.append((regularizer, var))
        return var

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        value = bool(value)
        for layer in self._flatten_layers():
            layer._trainable = value
            for w in layer._own_weights:
                if w._trainable:
                    w.requires_grad_(value)

    def _own_trainable(self):
        return [w for w in self._own_weights if w._trainable] if self._trainable else []

    def _own_non_trainable(self):
        return [w for w in self._own_weights if not w._trainable] if self._trainable else list(self._own_weights)

    @property
    def trainable_weights(self):
        return _unique([w for layer in self._flatten_layers() for w in layer._own_trainable()])

    @property
    def non_trainable_weights(self):
        return _unique([w for layer in self._flatten_layers() for w in layer._own_non_trainable()])

    @property
    def weights(self):
        """Each layer's own weights in creation order, layer after layer (Keras' order)."""
        return _unique([w for layer in self._flatten_layers() for w in layer._own_weights])

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    variables = weights

    def get_weights(self):
        """The weights as numpy arrays, in `weights` order (Keras layouts: Dense kernel (in, out))."""
        return [w.numpy().copy() for w in self.weights]

    def set_weights(self, weights):
        """Copy numpy arrays into the weights, in `weights` order; shapes must match exactly."""
        mine = self.weights
        weights = list(weights)
        if len(weights) != len(mine):
            raise ValueError(f"{self.name}.set_weights expects a list of {len(mine)} arrays "
                             f"(shapes {[tuple(w.shape) for w in mine]}); got {len(weights)}.")
        values = [np.asarray(value) if not isinstance(value, torch.Tensor) else value for value in weights]
        for i, (var, value) in enumerate(zip(mine, values)):          # all checked before any is changed
            if tuple(value.shape) != tuple(var.shape):
                raise ValueError(f"{self.name}.set_weights: weight {i} ({var._name}) has shape {tuple(var.shape)}; "
                                 f"got an array of shape {tuple(value.shape)}. No weight was changed.")
        for var, value in zip(mine, values):
            var.assign(value)

    def count_params(self) -> int:
        if not self.built and not self.weights:
            raise ValueError(f"Layer {self.name!r} is not built yet, so its weights do not exist; call it on "
                             "data or give the model an input shape first.")
        return int(sum(w.numel() for w in self.weights))

    @property
    def losses(self):
        """Weight penalties (computed now) plus the activity penalties of the last call."""
        out = []
        for layer in self._flatten_layers():
            for reg, var in layer._weight_regularizers:
                if var._trainable and layer._trainable:
                    with no_dispatch():
                        out.append(reg(plain(var)).as_subclass(EagerTensor))
        return out + [l.as_subclass(EagerTensor) if type(l) is torch.Tensor else l for l in self._last_losses]

    def add_loss(self, loss):
        """Add a scalar to the training loss of the current call (Keras' `add_loss`)."""
        if call_context.losses is not None:
            call_context.losses.append(loss)
        else:
            self._last_losses.append(loss)

    def _regularization_penalty(self):
        """Sum of the weight penalties, on plain tensors, or None when there are none."""
        total = None
        for layer in self._flatten_layers():
            if layer._trainable:
                for reg, var in layer._weight_regularizers:
                    if var._trainable:
                        p = reg(plain(var))
                        total = p if total is None else total + p
        return total

    # -- building and calling ---------------------------------------------------------------------
    def build(self, input_shape):
        """Create the weights for inputs of `input_shape` (batch first, maybe None)."""
        self.built = True

    def call(self, inputs, *args, **kwargs):
        return inputs

    def forward(self, *args, **kwargs):
        return self.call(*args, **kwargs)

    def _maybe_build(self, x):
        if not self.built:
            t = first(x)
            shape = (None,) + tuple(t.shape[1:]) if isinstance(t, torch.Tensor) else None
            if self._input_shape_arg is not None and shape is not None:
                self._check_declared_shape(shape)
            self._build_input_shape = shape
            if shape is not None and not call_context.dry_run:
                shape = (t.shape[0],) + shape[1:]          # errors then show the user's batch size
            with torch.no_grad():
                self.build(shape)
            self.built = True

    def _check_declared_shape(self, shape):
        want = self._input_shape_arg[1:]
        if len(want) != len(shape) - 1 or any(w is not None and w != s for w, s in zip(want, shape[1:])):
            raise ValueError(f"Layer {self.name!r} was declared with input_shape={want}; got inputs of shape "
                             f"{('batch',) + tuple(shape[1:])}.")

    def _run(self, x, *args, training=False, **kwargs):
        """The call on plain tensors: build if needed, call, activity penalty. No conversion."""
        if not self.built:
            self._maybe_build(x)
        if self._takes_training and "training" not in kwargs:
            kwargs["training"] = training
        y = self.call(x, *args, **kwargs)
        if self.activity_regularizer is not None:
            out = first(y)
            penalty = self.activity_regularizer(out)
            if out.dim() > 0 and out.shape[0] > 0:
                penalty = penalty / out.shape[0]
            self.add_loss(penalty)
        return y

    def __call__(self, *args, **kwargs):
        ctx = call_context
        inputs = args[0] if args else kwargs.pop("inputs", None)
        if isinstance(first(inputs), KerasTensor):
            return call_symbolic(self, inputs, *args[1:], **kwargs)
        if graph_tensor(first(inputs)):                          # inside a traced tf.function
            return _tape_tensor.graph_hooks["keras_layer"](self, inputs, args[1:], kwargs)
        training = kwargs.pop("training", None)
        if ctx.depth:                                            # nested: inputs are plain already
            outer = ctx.training
            if training is not None:
                ctx.training = bool(training)
            try:
                with no_dispatch():
                    x = map_structure(as_plain, inputs)
                    y = self._run(x, *args[1:], training=ctx.training, **kwargs)
            finally:
                ctx.training = outer
            self._note_output_shape(y)
            return y
        device = course.device.get()
        x = map_structure(lambda v: v if v is None else to_tensor(v, device=device,
            cast_ints=self._casts_inputs), inputs)
        ctx.depth, ctx.training, ctx.losses = (1, bool(training) if training is not None
                                               else self._call_training_default, [])
        try:
            # As in TensorFlow, nothing is recorded for gradients unless a GradientTape is recording:
            # `model(test_images)` then keeps no activations alive (gigabytes for a CNN on 10,000 images).
            with (contextlib.nullcontext() if records() else torch.no_grad()), no_dispatch():
                y = self._run(x, *args[1:], training=ctx.training, **kwargs)
            self._last_losses = ctx.losses
        finally:
            ctx.depth, ctx.training, ctx.losses = 0, False, None
        if recording_tapes():
            note_variable_read(self.trainable_weights)            # TF's tape watches what the call read
        self._note_output_shape(y)
        return wrap(y)

    def _note_output_shape(self, y):
        # Keras reports the batch axis as None whatever batch went through (summary shows (None, 128)).
        t = first(y)
        self._output_shape = (None, *t.shape[1:]) if isinstance(t, torch.Tensor) and t.dim() else None

    _casts_inputs = True           # cast integer inputs to float32 (Keras' autocast of the input)

    # -- shapes and configs -----------------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        """Output shape for `input_shape` (batch may be None), by a dry run on a batch of 1."""
        return dry_run_shape(self, input_shape)

    @property
    def output_shape(self):
        if self._output_shape is None:
            raise AttributeError(f"Layer {self.name!r} has not been called yet, so it has no output shape.")
        return self._output_shape

    @property
    def dtype(self):
        return "float32"

    def get_config(self) -> dict:
        """Keras' base config (name, trainable, dtype policy); subclasses add their arguments."""
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
                            "registered_name": None}}
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers_module.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("dtype", None)
        return cls(**config)

    def extra_repr(self):
        return f"name={self.name!r}"

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other


def _unique(items):
    seen, out = set(), []
    for w in items:
        if id(w) not in seen:
            seen.add(id(w))
            out.append(w)
    return out
