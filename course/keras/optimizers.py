"""Keras 3 optimizers: thin front ends over the update rules of `course.optim` (form="keras").

    opt = Adam(learning_rate=0.001)                 # Keras defaults (epsilon=1e-7, ...)
    opt.apply_gradients(zip(grads, model.trainable_variables))
    opt.minimize(loss_fn, var_list)                 # loss_fn: a zero-argument callable
    opt.learning_rate = 0.01;  opt.iterations      # settable / read-only, as in Keras

No maths here: each class maps Keras' arguments onto its rule. The learning rate lives in a
float32 CPU variable, as Keras keeps it (float32), so reading it costs no device synchronisation.
"""
import warnings

import numpy as np
import torch

import course.optim
from course.framework.identifiers import NO_DEFAULT, Registry
from course.framework.convert import as_plain, no_dispatch
from course.keras.layers.call_context import graph_tensor
from course.tape.tensor import graph_hooks
from course.optim.schedules import CosineDecay, ExponentialDecay, LearningRateSchedule, PiecewiseConstantDecay
from course.tape import EagerTensor, Variable
from course.tape.gradient_tape import GradientTape

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "get", "serialize", "schedules"]


class _Schedules:
    """`keras.optimizers.schedules`."""
    LearningRateSchedule = LearningRateSchedule
    ExponentialDecay = ExponentialDecay
    PiecewiseConstantDecay = PiecewiseConstantDecay
    CosineDecay = CosineDecay


schedules = _Schedules()


class Optimizer:
    """Base class. Subclasses set `_rule_cls`, `_slot_blocks` (Keras' optimizer-variable order)
    and `_rule_args(...)`."""

    _rule_cls = None
    _slot_blocks = ()        # per block, the rule slot names interleaved per variable, as Keras' build() orders them
    _keras_slot_names = {}   # rule slot name -> Keras variable prefix

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs):
        if kwargs:
            legacy = {"lr": "learning_rate", "decay": "a learning-rate schedule"}
            hints = [f"{k} (use {legacy[k]})" if k in legacy else k for k in kwargs]
            raise TypeError(f"{type(self).__name__}() got unexpected keyword argument(s): {', '.join(hints)}.")
        if use_ema or gradient_accumulation_steps or loss_scale_factor:
            raise NotImplementedError(f"{type(self).__name__}: use_ema, gradient_accumulation_steps and "
                                      "loss_scale_factor are not supported.")
        self.name = name or type(self).__name__.lower()
        self.weight_decay, self.clipnorm, self.clipvalue, self.global_clipnorm = (
            weight_decay, clipnorm, clipvalue, global_clipnorm)
        self._lr_var = Variable(torch.zeros((), dtype=torch.float32), trainable=False, name="learning_rate")
        self._schedule = None
        self._rule = self._make_rule()
        self._variables = None               # what build() was given: the order the saved state follows
        self.learning_rate = learning_rate
        self._warned_none = False

    def _make_rule(self):
        raise NotImplementedError

    def _clip_args(self):
        return dict(clipnorm=self.clipnorm, clipvalue=self.clipvalue, global_clipnorm=self.global_clipnorm)

    # -- learning rate and step count ------------------------------------------------------------
    @property
    def learning_rate(self):
        if self._schedule is not None:
            return torch.tensor(float(self._schedule(self._rule.iterations)), dtype=torch.float32
                                ).as_subclass(EagerTensor)
        return self._lr_var

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, LearningRateSchedule) or (callable(value) and not isinstance(value, torch.Tensor)):
            self._schedule = value
            self._rule.learning_rate = value
        else:
            self._schedule = None
            self._lr_var.assign(torch.as_tensor(float(value), dtype=torch.float32))
            self._rule.learning_rate = self._lr_var

    lr = learning_rate

    @property
    def iterations(self):
        """Number of steps taken (an int64 scalar, as Keras' `optimizer.iterations`)."""
        return torch.tensor(self._rule.iterations, dtype=torch.int64).as_subclass(EagerTensor)

    @iterations.setter
    def iterations(self, value):
        self._rule.iterations = int(value)

    # -- steps -----------------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        """One step from (gradient, variable) pairs; pairs whose gradient is None are skipped."""
        pairs = list(grads_and_vars)
        grads, variables = [g for g, _ in pairs], [v for _, v in pairs]
        if any(graph_tensor(g) for g in grads):                   # inside a traced tf.function
            return graph_hooks["keras_apply"](self, grads, variables)
        return self.apply(grads, variables)

    def apply(self, grads, trainable_variables=None):
        grads = list(grads)
        variables = list(trainable_variables) if trainable_variables is not None else None
        if variables is None:
            raise ValueError(f"{type(self).__name__}.apply needs the variables the gradients belong to.")
        if len(grads) != len(variables):
            raise ValueError(f"{type(self).__name__}: got {len(grads)} gradients for {len(variables)} variables.")
        missing = [getattr(v, "_name", str(i)) for i, (g, v) in enumerate(zip(grads, variables)) if g is None]
        if missing and len(missing) == len(grads):
            raise ValueError(f"{type(self).__name__}: no gradients were provided for any variable "
                             f"({', '.join(missing)}). Did the loss depend on them (computed inside the tape)?")
        if missing and not self._warned_none:
            self._warned_none = True
            warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the loss; "
                          "they are left unchanged.", stacklevel=3)
        for i, v in enumerate(variables):
            if not isinstance(v, torch.Tensor) or not getattr(v, "_trainable", True):
                raise ValueError(f"{type(self).__name__}: item {i} is not a trainable variable ({v!r}).")
        if self._variables is None:
            self.build(variables)
        with no_dispatch():
            self._rule.apply(variables, [as_plain(g) for g in grads])
        return self.iterations

    def minimize(self, loss, var_list, tape=None):
        """Compute the gradients of `loss` (a zero-argument callable, or a tensor with `tape`) and apply them."""
        var_list = list(var_list() if callable(var_list) else var_list)
        if tape is not None:
            grads = tape.gradient(loss, var_list)
        else:
            if not callable(loss):
                raise ValueError(f"{type(self).__name__}.minimize: `loss` must be a zero-argument callable "
                                 "when no `tape` is given (the loss must be computed where gradients are recorded).")
            with GradientTape() as tape:             # record the loss, as Keras' minimize does
                value = loss()
            grads = tape.gradient(value, var_list)
        return self.apply(grads, var_list)

    # -- state and config ------------------------------------------------------------------------
    def _first_slot(self):
        """Where the slots start in Keras' variable list: after iterations and the learning-rate variable,
        which Keras does not have when the learning rate is a schedule (or any callable)."""
        return 1 if self._schedule is not None else 2

    @property
    def variables(self):
        """Keras' optimizer variables in its save order: iterations, learning_rate (not with a
        schedule), then the slots."""
        out = [self.iterations] + ([self._lr_var] if self._schedule is None else [])
        order = self._rule.params
        for block in self._slot_blocks:
            for p in order:
                st = self._rule.state.get(p)
                for slot in block:
                    if st is not None and slot in st:
                        out.append(st[slot].as_subclass(EagerTensor))
        return out

    def build(self, variables):
        """Keras' `optimizer.build(var_list)`: the variables this optimizer updates, in the order its
        saved state follows (the first `apply` builds it on the variables it is given)."""
        self._variables = list(variables)

    @property
    def built(self):
        """True once the optimizer holds state: a step was taken, or saved state was loaded."""
        return bool(self._rule.state)

    def save_own_variables(self, store):
        """Keras 3's optimizer variables into `store` ({"0": array, ...}): iterations, the learning
        rate (not with a schedule), then the slots in Keras' order (zeros for a variable without a step yet)."""
        store["0"] = np.asarray(self._rule.iterations, dtype=np.int64)
        if self._schedule is None:
            store["1"] = np.asarray(float(self._lr_var), dtype=np.float32)
        variables = self._variables if self._variables is not None else self._rule.params
        for index, slot, var in self._keras_slots(variables, self._first_slot()):
            state = self._rule.state.get(var)
            value = state[slot] if state is not None and slot in state else torch.zeros_like(var)
            with no_dispatch():
                store[str(index)] = value.detach().cpu().numpy()

    def load_own_variables(self, store):
        """Load what `save_own_variables` wrote, for the variables given to `build`. State saved
        for other variables or other settings is ignored (the optimizer starts afresh, as in Keras)."""
        variables = self._variables or []
        first = self._first_slot()
        rows = self._keras_slots(variables, first)
        if len(store.keys()) != first + len(rows) or not all(str(i) in store for i in range(first + len(rows))):
            return
        iterations = store["0"]
        lr = store["1"] if first == 2 else None
        if iterations.size != 1 or (lr is not None and lr.size != 1):
            return
        positions = {id(v): i for i, v in enumerate(variables)}
        state = {"form": "keras", "iterations": int(iterations.reshape(())), "state": {}}
        for index, slot, var in rows:                # everything checked before anything changes
            value = store[str(index)]
            if value.shape != tuple(var.shape):
                return
            st = state["state"].setdefault(positions[id(var)], {"step": state["iterations"]})
            st[slot] = torch.from_numpy(value)
        if lr is not None:
            self._lr_var.assign(torch.as_tensor(float(lr.reshape(())), dtype=torch.float32))
        self._rule.load_state_dict(state, params=variables)   # the slots attached to the variables now

    def _keras_slots(self, variables, first=2):
        """[(keras var index, rule slot name, variable)] for the current settings (save/load order);
        the slots are numbered from `first` (2: after iterations and the learning rate)."""
        rows, index = [], first
        active = set(self._rule.slot_inits())
        for block in self._slot_blocks:
            names = [s for s in block if s in active]
            for v in variables:
                for slot in names:
                    rows.append((index, slot, v))
                    index += 1
        return rows

    def get_config(self):
        lr = self._schedule if self._schedule is not None else float(self._lr_var)
        if isinstance(lr, LearningRateSchedule):
            lr = {"module": "keras.optimizers.schedules", "class_name": type(lr).__name__,
                  "config": lr.get_config(), "registered_name": None}
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
                "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                "loss_scale_factor": None, "gradient_accumulation_steps": None}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            sched = {"ExponentialDecay": ExponentialDecay, "PiecewiseConstantDecay": PiecewiseConstantDecay,
                     "CosineDecay": CosineDecay}
            if lr.get("class_name") not in sched:
                raise ValueError(f"Unsupported learning-rate schedule {lr.get('class_name')!r} in the saved optimizer.")
            config["learning_rate"] = sched[lr["class_name"]](**lr["config"])
        for key in ("use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
                    "gradient_accumulation_steps"):
            config.pop(key, None)
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} learning_rate={float(self.learning_rate):g}>"


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum; Keras keeps a velocity m = μm - lr·g."""

    _slot_blocks = (("momentum",),)
    _keras_slot_names = {"momentum": "momentum"}

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None,
                 name="SGD", **kwargs):
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
                         ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name, **kwargs)

    def _make_rule(self):
        return course.optim.SGD.keras(0.01, self.momentum, self.nesterov, self.weight_decay, **self._clip_args())

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam with Keras' defaults (epsilon=1e-7 outside the square root)."""

    _slot_blocks = (("m", "v"), ("vhat",))
    _keras_slot_names = {"m": "momentum", "v": "velocity", "vhat": "velocity_hat"}

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="adam", **kwargs):
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = float(beta_1), float(beta_2), float(epsilon), amsgrad
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
                         ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name, **kwargs)

    def _make_rule(self):
        return course.optim.Adam.keras(0.001, self.beta_1, self.beta_2, self.epsilon, self.amsgrad,
                                       self.weight_decay, **self._clip_args())

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay w -= lr·wd·w (Keras default weight_decay=0.004)."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="adamw", **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, clipnorm, clipvalue,
                         global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor,
                         gradient_accumulation_steps, name, **kwargs)

    def _make_rule(self):
        return course.optim.AdamW.keras(0.001, self.weight_decay, self.beta_1, self.beta_2, self.epsilon,
                                        self.amsgrad, **self._clip_args())


class RMSprop(Optimizer):
    """RMSprop with Keras 3's form (accumulator starts at 0, epsilon outside the square root)."""

    _slot_blocks = (("mean_square",), ("momentum",), ("mean_grad",))
    _keras_slot_names = {"mean_square": "velocity", "momentum": "momentum", "mean_grad": "average_gradient"}

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="rmsprop", **kwargs):
        self.rho, self.momentum, self.epsilon, self.centered = float(rho), float(momentum), float(epsilon), centered
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
                         ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name, **kwargs)

    def _make_rule(self):
        return course.optim.RMSprop.keras(0.001, self.rho, self.momentum, self.epsilon, self.centered,
                                          self.weight_decay, **self._clip_args())

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}


class Adagrad(Optimizer):
    """Adagrad with Keras' defaults (initial accumulator 0.1, epsilon 1e-7)."""

    _slot_blocks = (("accumulator",),)
    _keras_slot_names = {"accumulator": "accumulator"}

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None,
                 name="adagrad", **kwargs):
        self.initial_accumulator_value, self.epsilon = float(initial_accumulator_value), float(epsilon)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
                         ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name, **kwargs)

    def _make_rule(self):
        return course.optim.Adagrad.keras(0.001, self.initial_accumulator_value, self.epsilon, self.weight_decay,
                                          **self._clip_args())

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


_BY_NAME = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad}
_CLASSES = {c.__name__: c for c in (SGD, Adam, AdamW, RMSprop, Adagrad)}


OPTIMIZERS = Registry("optimizer", _BY_NAME, classes=_CLASSES, base=Optimizer, ignore_case=True, callables=False,
                      none=NO_DEFAULT)


def get(identifier):
    """An optimizer from a Keras string ('adam', 'sgd', 'rmsprop', 'adagrad', 'adamw'), a config or an object."""
    if isinstance(identifier, torch.optim.Optimizer):
        raise TypeError("compile(optimizer=...) takes a Keras-style optimizer (course.tf.keras.optimizers.Adam(), "
                        "or 'adam'); a torch.optim optimizer cannot drive this engine.")
    return OPTIMIZERS.get(identifier)


def serialize(optimizer):
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__, "config": optimizer.get_config(),
            "registered_name": None}
