"""`UpdateRule`: what every optimizer shares -- forms, slots, the step count, clipping, decay, state.

An update rule changes parameters in place from their gradients:

    rule.apply(params, grads)      # params: list of tensors; grads: tensors or None (None = skip)

Each concrete rule (`SGD`, `Adagrad`, `RMSprop`, `Adam`, `AdamW`) is written once and covers,
through its arguments, the three forms learners meet:

    form="tf1"    tf.compat.v1.train.*Optimizer      (graph engine)
    form="keras"  keras.optimizers.* (Keras 3)       (Keras engine, eager loop)
    form="torch"  torch.optim.*                      (for comparison)

The form decides the structural details the frameworks disagree on (where epsilon sits, what
an accumulator starts at, whether the learning rate is inside a momentum buffer, how weight
decay works); the numeric defaults of each framework are in the presets `Rule.tf1(...)`,
`Rule.keras(...)`, `Rule.torch(...)`, which take that framework's own argument names.

Shared steps, in Keras' order, before the rule's own update:
    1. clipping (Keras' `clipnorm`, `global_clipnorm`, `clipvalue`; at most one),
    2. weight decay:  decoupled  w <- w - lr*wd*w        (Keras, and AdamW in every form)
                      coupled    g <- g + wd*w           (torch form's `weight_decay`)
                      TF1 optimizers have none.

Slots (m, v, accumulators, ...) live per parameter tensor in `rule.state[param]`, created on the
first `apply` that sees the parameter, with the form's initial value. The hot path works on whole
lists with `torch._foreach_*` ops, grouped by (device, dtype), and passes Python floats as scalars,
so a float learning rate costs no device synchronisation.
"""
import inspect

import torch

from course.optim.schedules import LearningRateSchedule

__all__ = ["UpdateRule", "FORMS"]

FORMS = ("tf1", "keras", "torch")


def _check_form(form, name):
    if form not in FORMS:
        raise ValueError(f"{name}: form must be one of {FORMS}; got {form!r}.")
    return form


class UpdateRule:
    """Base class of the update rules; subclasses define `slot_inits()` and `update()`.

    Attributes (the contract with the engines):
        iterations      int, number of `apply()` calls so far (Keras' `optimizer.iterations`).
        learning_rate   float, a schedule (callable step -> lr), or a zero-argument callable;
                        settable at any time.
        state           {param tensor: {"step": int, slot name: tensor}}.
    """

    name = "UpdateRule"
    _form_defaults = {}      # {argument: {form: value}} used when that argument is None

    def __init__(self, learning_rate, *, form="keras", weight_decay=0.0, clipnorm=None,
                 clipvalue=None, global_clipnorm=None):
        self.form = _check_form(form, type(self).__name__)
        self.learning_rate = learning_rate
        self.weight_decay = float(weight_decay or 0.0)
        if self.weight_decay < 0:
            raise ValueError(f"{type(self).__name__}: weight_decay must be >= 0; got {weight_decay}.")
        if self.weight_decay and form == "tf1":
            raise ValueError(f"{type(self).__name__}(form='tf1'): TF1 optimizers have no weight_decay; "
                             "add an L2 term to the loss instead (e.g. wd * tf.nn.l2_loss(w)).")
        clips = {k: v for k, v in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                                   ("global_clipnorm", global_clipnorm)) if v is not None}
        if len(clips) > 1:
            raise ValueError(f"{type(self).__name__}: set at most one of clipnorm, clipvalue, "
                             f"global_clipnorm (as Keras); got {sorted(clips)}.")
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.iterations = 0
        self.state = {}
        self._order = []         # parameters in the order first passed to apply(): state_dict positions
        self._known = set()      # ids of the parameters in _order
        self._pending = {}       # {position: slots} loaded before the parameter was seen
        self._lr_takes_step = None

    # -- per-rule pieces ---------------------------------------------------------------------
    @property
    def decoupled_weight_decay(self) -> bool:
        """True: w <- w - lr*wd*w before the update (Keras, AdamW); False: g <- g + wd*w (torch)."""
        return self.form != "torch"

    def slot_inits(self) -> dict:
        """{slot name: initial value} for a new parameter in this rule's form."""
        return {}

    def update(self, params, grads, slots, lr, t):
        """Apply the rule to one (device, dtype) group; `slots` maps name -> list, `t` is the
        1-based step (an int, or a list of per-parameter ints in the torch form)."""
        raise NotImplementedError

    def _default(self, argument, value):
        """`value`, or this form's default for `argument` when value is None."""
        return self._form_defaults[argument][self.form] if value is None else value

    # -- learning rate -------------------------------------------------------------------------
    def current_lr(self) -> float:
        """The learning rate for the step `apply()` will take next (a schedule sees `iterations`,
        counted from 0, as Keras and `tf.train.exponential_decay(..., global_step)` do)."""
        lr = self.learning_rate
        if isinstance(lr, LearningRateSchedule):
            return float(lr(self.iterations))
        if callable(lr) and not isinstance(lr, torch.Tensor):
            if self._lr_takes_step is None or self._lr_takes_step[0] is not lr:
                self._lr_takes_step = (lr, _takes_an_argument(lr))
            return float(lr(self.iterations) if self._lr_takes_step[1] else lr())
        return float(lr)  # a 0-d tensor costs one synchronisation here

    # -- the step -----------------------------------------------------------------------------
    def apply(self, params, grads):
        """One optimisation step: update every parameter whose gradient is not None, in place."""
        params, grads = list(params), list(grads)
        if len(params) != len(grads):
            raise ValueError(f"{type(self).__name__}.apply got {len(params)} parameters and "
                             f"{len(grads)} gradients; pass one gradient (or None) per parameter.")
        lr = self.current_lr()
        with torch.no_grad():
            groups = self._groups(params, grads)
            if groups:
                self._clip(groups)
                wd = self.weight_decay
                for ps, gs, sts in groups.values():
                    if self.form == "torch":
                        steps = [st["step"] + 1 for st in sts]
                        t = steps[0] if steps.count(steps[0]) == len(steps) else steps
                    else:
                        t = self.iterations + 1
                    for st in sts:
                        st["step"] += 1
                    if wd:
                        if self.decoupled_weight_decay:
                            torch._foreach_mul_(ps, 1.0 - lr * wd)        # w <- w - lr*wd*w
                        else:
                            gs[:] = torch._foreach_add(gs, ps, alpha=wd)  # g <- g + wd*w
                    slots = {name: [st[name] for st in sts] for name in self.slot_inits()}
                    self.update(ps, gs, slots, lr, t)
        self.iterations += 1

    def _groups(self, params, grads):
        """{(device, dtype): (params, grads, states)} for the pairs whose gradient is not None."""
        groups = {}
        for i, (p, g) in enumerate(zip(params, grads)):
            if id(p) not in self._known:
                self._see(p)
            if g is None:
                continue
            if g.shape != p.shape:
                raise ValueError(f"{type(self).__name__}.apply: gradient {i} has shape {tuple(g.shape)} "
                                 f"but its parameter has shape {tuple(p.shape)}.")
            if g.is_sparse:
                raise TypeError(f"{type(self).__name__}.apply: gradient {i} is sparse; densify it "
                                "with .to_dense() first.")
            if g.device != p.device:
                raise ValueError(f"{type(self).__name__}.apply: gradient {i} is on {g.device} but its "
                                 f"parameter is on {p.device}; move it with .to(param.device).")
            if g.dtype != p.dtype:
                g = g.to(p.dtype)          # Keras casts the gradient to the variable's dtype
            st = self.state.get(p)
            if st is None:
                st = self.state[p] = self._new_state(p)
            group = groups.get((p.device, p.dtype))
            if group is None:
                group = groups[(p.device, p.dtype)] = ([], [], [])
            group[0].append(p)
            group[1].append(g)
            group[2].append(st)
        return groups

    def _see(self, p):
        self._known.add(id(p))
        self._order.append(p)
        loaded = self._pending.pop(len(self._order) - 1, None)
        if loaded is not None:
            self.state[p] = self._adopt(loaded, p, len(self._order) - 1)

    def _new_state(self, p):
        st = {"step": 0}
        for name, value in self.slot_inits().items():
            st[name] = (torch.zeros_like(p, memory_format=torch.preserve_format) if value == 0 else
                        torch.full_like(p, value, memory_format=torch.preserve_format))
        return st

    def _clip(self, groups):
        """Keras' gradient clipping: per tensor g*c/max(|g|,c), globally g*c/max(|G|,c), or clamp."""
        if self.clipvalue is not None:
            v = float(self.clipvalue)
            for _, gs, _ in groups.values():
                gs[:] = torch._foreach_clamp_max(torch._foreach_clamp_min(gs, -v), v)
        elif self.clipnorm is not None:
            c = float(self.clipnorm)
            for _, gs, _ in groups.values():
                norms = torch._foreach_norm(gs)                      # [|g_i|]
                torch._foreach_clamp_min_(norms, c)                  # max(|g_i|, c)
                torch._foreach_reciprocal_(norms)
                torch._foreach_mul_(norms, c)                        # c / max(|g_i|, c)
                gs[:] = torch._foreach_mul(gs, norms)
        elif self.global_clipnorm is not None:
            c = float(self.global_clipnorm)
            per_group = [torch.stack(torch._foreach_norm(gs)).float() for _, gs, _ in groups.values()]
            total = torch.linalg.vector_norm(torch.cat([n.to(per_group[0].device) for n in per_group]))
            scale = c / torch.clamp(total, min=c)                    # c / max(|G|, c)
            for _, gs, _ in groups.values():
                gs[:] = torch._foreach_mul(gs, scale.to(gs[0].device, gs[0].dtype))

    # -- state --------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """{"form", "iterations", "state": {position: {"step": int, slot: tensor}}}; positions
        are those of the params list given to `apply()` (order of first appearance)."""
        return {"form": self.form, "iterations": self.iterations,
                "state": {i: dict(self.state[p]) for i, p in enumerate(self._order) if p in self.state}}

    @property
    def params(self) -> list:
        """The parameters seen so far, in state_dict position order."""
        return list(self._order)

    def load_state_dict(self, d: dict, params=None) -> None:
        """Restore `iterations` and the slots (copied). Slots for parameters not seen yet are kept
        and attached, by position, on the first `apply()`. Hyper-parameters are not restored.
        With `params`, the rule forgets what it held and takes `params` as its parameters, in that
        order, now (an engine that knows its variables before the first step, as Keras does)."""
        if d.get("form", self.form) != self.form:
            raise ValueError(f"{type(self).__name__}.load_state_dict: state was saved by form "
                             f"{d['form']!r}, this rule has form {self.form!r}.")
        if params is not None:
            self.state, self._order, self._known = {}, [], set()
        self.iterations = int(d["iterations"])
        self._pending = {}
        for i, slots in d["state"].items():
            i = int(i)
            if i < len(self._order):
                self.state[self._order[i]] = self._adopt(slots, self._order[i], i)
            else:
                self._pending[i] = slots
        for p in params or ():
            self._see(p)

    def _adopt(self, slots, p, i):
        st = {"step": int(slots.get("step", self.iterations))}
        for name in self.slot_inits():
            if name not in slots:
                raise KeyError(f"{type(self).__name__}.load_state_dict: parameter {i} has no slot "
                               f"{name!r} (has {sorted(k for k in slots if k != 'step')}); was it "
                               "saved by a rule with other settings?")
            value = torch.as_tensor(slots[name])
            if value.shape != p.shape:
                raise ValueError(f"{type(self).__name__}.load_state_dict: slot {name!r} of parameter "
                                 f"{i} has shape {tuple(value.shape)}, the parameter {tuple(p.shape)}.")
            st[name] = value.to(device=p.device, dtype=p.dtype, copy=True)
        return st

    def get_config(self) -> dict:
        """The hyper-parameters, by the names of this constructor."""
        names = [n for n in inspect.signature(type(self).__init__).parameters if n != "self"]
        return {n: getattr(self, n) for n in names if hasattr(self, n)}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _takes_an_argument(fn) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
               and p.default is p.empty for p in params)


def bias_corrections(beta, t):
    """1 - beta**t for an int step or a list of per-parameter steps."""
    if isinstance(t, list):
        return [1.0 - beta ** s for s in t]
    return 1.0 - beta ** t


def scalars(fn, *args):
    """fn applied elementwise when any argument is a list (per-parameter steps), else directly."""
    lists = [a for a in args if isinstance(a, list)]
    if not lists:
        return fn(*args)
    n = len(lists[0])
    return [fn(*(a[i] if isinstance(a, list) else a for a in args)) for i in range(n)]

