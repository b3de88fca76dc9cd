"""`tf.train` optimizers for graphs, on the shared update rules of `course.optim` (TF1 form).

    train_step = tf.train.AdamOptimizer(1e-4).minimize(cross_entropy)

`minimize` = `compute_gradients` (symbolic `tf.gradients` of the loss w.r.t. the trainable
variables) + `apply_gradients`, which creates the optimizer's slot variables as TensorFlow names
them ("Variable/Adam", "Variable/Adam_1", ...; global variables, so the initializer and the Saver
cover them) and ONE apply op for all variables. When it runs, the apply op hands the variables'
tensors, the gradients and the slot tensors to the update rule (`rule.update`, the `_foreach`
path of `course.optim`), so the maths of Adam, RMSProp, Momentum and Adagrad is written once in
the kit. TF1 instead makes one ApplyAdam op per variable and groups them; the update is the same.
Adam's bias correction keeps TF1's two variables "beta1_power" and "beta2_power" (β1^t and β2^t for
the next step t, starting at β1 and β2), so `tf.global_variables()` and Saver checkpoints hold what
TensorFlow's hold; the step count t the shared rule needs is read back from them after an
initializer or a restore.
"""
import math

import torch

import course.optim as optim
from course.graph import math_ops
from course.graph.array_ops import cast, constant, convert_to_tensor, fill
from course.graph.gradients import gradients
from course.graph.graph import GraphKeys, Tensor, get_default_graph, graph_of
from course.graph.registry import NotDifferentiable, register_op
from course.graph.variables import Variable, trainable_variables

__all__ = ["Optimizer", "GradientDescentOptimizer", "MomentumOptimizer", "AdamOptimizer", "RMSPropOptimizer",
           "AdagradOptimizer", "create_global_step", "get_global_step", "get_or_create_global_step",
           "global_step", "exponential_decay"]


class Optimizer:
    """Base class of the TF1 optimizers: `minimize`, `compute_gradients`, `apply_gradients`."""

    GATE_NONE, GATE_OP, GATE_GRAPH = 0, 1, 2
    _slot_aliases = {}            # TF's slot names -> the rule's slot names

    def __init__(self, use_locking, name):
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._name, self._use_locking = name, use_locking
        self._slots = {}          # rule slot name -> {Variable: slot Variable}
        self._powers = []         # Adam's beta1_power, beta2_power
        self._extra = []          # other variables this optimizer created

    def get_name(self):
        return self._name

    # -- the rule ---------------------------------------------------------------------------------------
    def _rule(self, learning_rate):
        """A fresh `course.optim` rule in TF1 form (one per session)."""
        raise NotImplementedError

    def _make_rule(self):
        lr = self._learning_rate
        return self._rule(0.0 if isinstance(lr, Tensor) or hasattr(lr, "_graph_tensor") else lr)

    # -- building ---------------------------------------------------------------------------------------
    def compute_gradients(self, loss, var_list=None, gate_gradients=GATE_OP, aggregation_method=None,
                          colocate_gradients_with_ops=False, grad_loss=None):
        """[(gradient, variable)] for `var_list` (default: the trainable variables)."""
        if callable(loss) and not isinstance(loss, Tensor):
            raise NotImplementedError("compute_gradients(loss=callable) is the eager form; in a graph pass the loss "
                                      "tensor.")
        loss = convert_to_tensor(loss)
        if var_list is None:
            with loss.graph.as_default():
                var_list = trainable_variables()
        var_list = list(var_list)
        if not var_list:
            raise ValueError("No variables to optimize.")
        for v in var_list:
            if not isinstance(v, Variable):
                raise TypeError(f"Argument is not a tf.Variable: {v!r}")
        grads = gradients(loss, var_list, grad_ys=None if grad_loss is None else [grad_loss])
        return list(zip(grads, var_list))

    def apply_gradients(self, grads_and_vars, global_step=None, name=None):
        """One op applying the update rule to every (gradient, variable) pair with a gradient;
        it also increments `global_step` when given."""
        pairs = list(grads_and_vars)
        if not pairs:
            raise ValueError("No variables provided.")
        for g, v in pairs:
            if not isinstance(v, Variable):
                raise TypeError(f"apply_gradients expects (gradient, Variable) pairs; got {v!r}.")
        used = [(g, v) for g, v in pairs if g is not None]
        if not used:
            raise ValueError(f"No gradients provided for any variable, check your graph for ops that do not support "
                             f"gradients, between variables {[str(v) for _, v in pairs]} and loss.")
        graph = graph_of([v for _, v in used])
        proto = self._make_rule()
        with graph.as_default():
            slot_ops = {}
            for slot, init in proto.slot_inits().items():
                table = self._slots.setdefault(slot, {})
                ops = []
                for _, v in used:
                    if v not in table:
                        table[v] = self._slot_variable(v, slot, init, len(slot_ops))
                    ops.append(table[v].op)
                slot_ops[slot] = ops
            powers = self._power_variables(graph, used[0][1]) if self._power_bases else []
            grads = [convert_to_tensor(g, dtype=v.dtype) for g, v in used]
            lr = self._learning_rate
            lr_t = convert_to_tensor(lr, dtype=torch.float32) if (isinstance(lr, Tensor) or
                                                                   hasattr(lr, "_graph_tensor")) else None
            for g, v in used:
                if not g.shape.is_compatible_with(v.shape):
                    raise ValueError(f"Gradient {g.name} has shape {g.shape}, which does not fit variable {v.name} "
                                     f"of shape {v.shape}.")
            attrs = {"optimizer": self, "vars": [v.op for _, v in used], "slots": slot_ops,
                     "powers": [v.op for v in powers],
                     "global_step": _as_variable(global_step).op if global_step is not None else None,
                     "lr_input": lr_t is not None, "_colocate_with": used[0][1].op}
            inputs = grads + ([lr_t] if lr_t is not None else [])
            return graph.create_op("Apply" + self._op_suffix, inputs, attrs, name or self._name)

    def minimize(self, loss, global_step=None, var_list=None, gate_gradients=GATE_OP, aggregation_method=None,
                 colocate_gradients_with_ops=False, name=None, grad_loss=None):
        """compute_gradients + apply_gradients: the op to run once per training step."""
        grads_and_vars = self.compute_gradients(loss, var_list, gate_gradients, aggregation_method,
                                                colocate_gradients_with_ops, grad_loss)
        if all(g is None for g, _ in grads_and_vars):
            raise ValueError(f"No gradients provided for any variable, check your graph for ops that do not support "
                             f"gradients, between variables {[str(v) for _, v in grads_and_vars]} and loss {loss}.")
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    _power_bases = ()             # Adam: (β1, β2), kept as TF1's beta1_power / beta2_power variables

    def _slot_variable(self, var, slot, init, index):
        name = f"{var.op.name}/{self._name}" + (f"_{index}" if index else "")
        shape = list(var.shape)
        with var.graph.name_scope(None):
            value = fill(shape, constant(init, var.dtype))
            return Variable(value, trainable=False, name=name, dtype=var.dtype)

    def _power_variables(self, graph, first_var):
        """TF1's non-slot variables: one float per base, named as TF names them ("beta1_power", ...),
        starting at the base itself (its power for step 1)."""
        if not self._powers or self._powers[0].graph is not graph:
            with graph.name_scope(None):
                self._powers = [Variable(constant(float(b), first_var.dtype), trainable=False, name=f"beta{i}_power")
                                for i, b in enumerate(self._power_bases, 1)]
        return self._powers

    def get_slot_names(self):
        return sorted(self._slot_aliases)

    def get_slot(self, var, name):
        table = self._slots.get(self._slot_aliases.get(name, name), {})
        return table.get(var)

    def variables(self):
        out = [s for table in self._slots.values() for s in table.values()]
        return out + list(self._powers)


def _as_variable(v):
    if isinstance(v, Variable):
        return v
    raise TypeError(f"global_step must be a tf.Variable (tf.train.get_or_create_global_step()); got {v!r}.")


class GradientDescentOptimizer(Optimizer):
    """w -= learning_rate · g."""
    _op_suffix = "GradientDescent"

    def __init__(self, learning_rate, use_locking=False, name="GradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate

    def _rule(self, lr):
        return optim.SGD.tf1(lr)


class MomentumOptimizer(Optimizer):
    """a = momentum·a + g;  w -= learning_rate·a  (Nesterov: w -= lr·(g + momentum·a))."""
    _op_suffix = "Momentum"
    _slot_aliases = {"momentum": "momentum"}

    def __init__(self, learning_rate, momentum, use_locking=False, name="Momentum", use_nesterov=False):
        super().__init__(use_locking, name)
        self._learning_rate, self._momentum, self._use_nesterov = learning_rate, momentum, use_nesterov

    def _rule(self, lr):
        return optim.SGD.tf1(lr, self._momentum, self._use_nesterov)


class AdamOptimizer(Optimizer):
    """TF1 Adam: epsilon 1e-8 added to sqrt(v); see course.optim.Adam for the update."""
    _op_suffix = "Adam"
    _slot_aliases = {"m": "m", "v": "v"}

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-08, use_locking=False, name="Adam"):
        super().__init__(use_locking, name)
        self._learning_rate, self._beta1, self._beta2, self._epsilon = learning_rate, beta1, beta2, epsilon
        self._power_bases = (float(beta1), float(beta2))

    def _rule(self, lr):
        return optim.Adam.tf1(lr, self._beta1, self._beta2, self._epsilon)


class RMSPropOptimizer(Optimizer):
    """TF1 RMSProp: the mean square starts at 1 and epsilon sits inside the square root."""
    _op_suffix = "RMSProp"
    _slot_aliases = {"rms": "mean_square", "momentum": "momentum", "mg": "mean_grad"}

    def __init__(self, learning_rate, decay=0.9, momentum=0.0, epsilon=1e-10, use_locking=False, centered=False,
                 name="RMSProp"):
        super().__init__(use_locking, name)
        self._learning_rate, self._decay, self._momentum = learning_rate, decay, momentum
        self._epsilon, self._centered = epsilon, centered

    def _rule(self, lr):
        return optim.RMSprop.tf1(lr, self._decay, self._momentum, self._epsilon, self._centered)


class AdagradOptimizer(Optimizer):
    """TF1 Adagrad: the accumulator starts at initial_accumulator_value (0.1)."""
    _op_suffix = "Adagrad"
    _slot_aliases = {"accumulator": "accumulator"}

    def __init__(self, learning_rate, initial_accumulator_value=0.1, use_locking=False, name="Adagrad"):
        super().__init__(use_locking, name)
        self._learning_rate, self._initial = learning_rate, initial_accumulator_value

    def _rule(self, lr):
        return optim.Adagrad.tf1(lr, self._initial)


# -- the apply op -------------------------------------------------------------------------------------
def _apply_make(op, rt, device):
    """Bind the apply op to a session: its rule (kept per session), and the storage of the
    variables, slots, step counter and global step."""
    a = op.attrs
    rule = rt.state.get(op)
    if rule is None:
        rule = rt.state[op] = a["optimizer"]._make_rule()
    var_slots = [rt.slot(v) for v in a["vars"]]
    slot_slots = {name: [rt.slot(s) for s in ops] for name, ops in a["slots"].items()}
    power_slots = [rt.slot(v) for v in a["powers"]]
    bases = a["optimizer"]._power_bases
    gs_slot = rt.slot(a["global_step"]) if a["global_step"] is not None else None
    n = len(var_slots)
    groups = {}
    for i, v in enumerate(a["vars"]):                    # the rule works per (device, dtype) group
        groups.setdefault((v.device, v.outputs[0].dtype), []).append(i)
    groups = list(groups.values())
    single = len(groups) == 1
    cache = {"version": -1, "t": 0}
    lr_input = a["lr_input"]
    fixed_lr = None if lr_input or callable(rule.learning_rate) else float(rule.learning_rate)
    slot_items = list(slot_slots.items())

    def apply(*inputs):
        grads = list(inputs[:n]) if lr_input else list(inputs)
        lr = float(inputs[n]) if lr_input else (fixed_lr if fixed_lr is not None else rule.current_lr())
        params = [s.read() for s in var_slots]
        slots = {name: [s.read() for s in ss] for name, ss in slot_items}
        if power_slots:
            if cache["version"] != rt.version:          # initialised or restored since: reread t
                cache["t"], cache["version"] = _steps_taken(power_slots, bases, rule.iterations), rt.version
            t = cache["t"] + 1
        else:
            t = rule.iterations + 1
        if single:
            rule.update(params, grads, slots, lr, t)    # the shared rule, on whole lists (_foreach ops)
        else:
            for idx in groups:
                rule.update([params[i] for i in idx], [grads[i] for i in idx],
                            {k: [v[i] for i in idx] for k, v in slots.items()}, lr, t)
        rule.iterations = t
        if power_slots:
            cache["t"] = t
            for slot, base in zip(power_slots, bases):
                slot.value.fill_(base ** (t + 1))       # β^t for the next step, as TF1 leaves it
        if gs_slot is not None:
            gs_slot.read().add_(1)
    return apply


def _steps_taken(power_slots, bases, fallback):
    """The steps already taken, read from β^(t+1) (TF1's beta powers): from the first base strictly
    between 0 and 1 whose power is still a normal float (β1 = 0.9 underflows after ~900 steps; β2 =
    0.999 lasts far longer), else `fallback`."""
    for slot, base in zip(power_slots, bases):
        power = float(slot.read())
        if 0.0 < base < 1.0 and 1e-30 < power <= 1.0:
            return max(round(math.log(power) / math.log(base)) - 1, 0)
    return fallback


for _suffix in ("GradientDescent", "Momentum", "Adam", "RMSProp", "Adagrad"):
    register_op("Apply" + _suffix, infer=lambda op: [], make=_apply_make, stateful=True)
    NotDifferentiable("Apply" + _suffix)


# -- global step and schedules -------------------------------------------------------------------------
def create_global_step(graph=None):
    """The int64 'global_step' variable (in the GLOBAL_STEP collection) of `graph`."""
    graph = graph or get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError("\"global_step\" already exists.")
    with graph.as_default(), graph.name_scope(None):
        v = Variable(constant(0, torch.int64), trainable=False, name="global_step",
                     collections=[GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP])
    return v


def get_global_step(graph=None):
    graph = graph or get_default_graph()
    found = graph.get_collection(GraphKeys.GLOBAL_STEP)
    if len(found) > 1:
        raise TypeError("There are multiple global steps in the GLOBAL_STEP collection.")
    return found[0] if found else None


def get_or_create_global_step(graph=None):
    step = get_global_step(graph)
    return step if step is not None else create_global_step(graph)


def global_step(sess, global_step_tensor):
    """The current value of the global step as a Python int."""
    return int(sess.run(global_step_tensor))


def exponential_decay(learning_rate, global_step, decay_steps, decay_rate, staircase=False, name=None):
    """learning_rate · decay_rate^(global_step / decay_steps) (floored exponent with staircase)."""
    g = get_default_graph()
    with g.name_scope(name or "ExponentialDecay"):
        lr = convert_to_tensor(learning_rate, dtype=torch.float32, name="learning_rate")
        p = math_ops.truediv(cast(global_step, torch.float32),
                             convert_to_tensor(float(decay_steps), dtype=torch.float32))
        if staircase:
            p = math_ops.floor(p)
        return math_ops.multiply(lr, math_ops.pow(convert_to_tensor(float(decay_rate), dtype=torch.float32), p))

