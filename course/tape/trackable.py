"""The object graph a checkpoint saves: which objects hang below which, under what names.

TensorFlow's `tf.train.Checkpoint` does not save a flat list of variables; it saves the graph of
objects reachable from its root (a model, its layers, an optimizer, lists and dicts of them) and
keys each variable by the first path that reaches it, breadth first:

    model/d1/_kernel/.ATTRIBUTES/VARIABLE_VALUE            a subclassed Keras model's Dense
    model/_functional/_operations/1/_kernel/...            a Sequential's first Dense (0 is its InputLayer)
    optimizer/_variables/2/.ATTRIBUTES/VARIABLE_VALUE      a Keras optimizer's first slot
    m/l/1/a/.ATTRIBUTES/VARIABLE_VALUE                     tf.Module attribute `l = [v, {"a": w}]`

`children(obj)` lists one object's named children, found generically (no engine registers itself):
a `tf.Module` or plain object by its attributes, lists by index, dicts by key, a Keras layer by its
weights and sub-layers with Keras 3's attribute names (`_kernel`, `_embeddings`), a Keras model's
compiled `optimizer`, a Keras optimizer by `_iterations`, `_learning_rate`, `_variables` and
`_trainable_variables`. An object may also define `_trackable_children()` itself (`Checkpoint` does).
Leaves are Variables and `ValueRef`s (a value that is not a Variable object: an optimizer's step
count or slot).

Restoring into objects that do not exist yet (a layer not built) is deferred: `attach_hooks` are
called when a tf.Module attribute or a torch parameter/sub-module is set, and the checkpoint code
restores what the new child's path holds.
"""
import torch

from course.tape.variables import Variable

__all__ = ["ValueRef", "children", "is_trackable", "is_leaf", "escape", "attach_hooks", "notify_attach",
           "keras_child_name"]

attach_hooks = []       # called as hook(parent, attribute name, value) when a child is attached

# Keras 3 keeps these weights under private attribute names (quantization wraps them); TF's checkpoint
# names follow the attribute.
_KERAS_RENAMES = {"kernel": "_kernel", "embeddings": "_embeddings"}
_MODULE_PRIVATE = {"_name", "_scope_name"}
_MAX_DEPTH = 64


class ValueRef:
    """A saveable value that is not a Variable object: `read()` gives a tensor, `write(array)` sets it."""

    def __init__(self, read, write, name):
        self.read, self.write, self.name = read, write, name

    def __repr__(self):
        return f"<{self.name}>"


def keras_child_name(name):
    return _KERAS_RENAMES.get(name, name)


def is_leaf(obj):
    return isinstance(obj, (Variable, ValueRef))


def _is_keras_layer(obj):
    return isinstance(obj, torch.nn.Module) and "_tracked" in vars(obj)


def _is_keras_optimizer(obj):
    return hasattr(type(obj), "_slot_blocks") and hasattr(obj, "_rule") and hasattr(obj, "_lr_var")


def _is_module(obj):
    return getattr(type(obj), "_is_tf_module", False)        # tf.Module (course.tape.module imports this file)


def is_trackable(obj, depth=0):
    """A Variable, a tf.Module, a Keras layer or optimizer, an object with `_trackable_children`, or a
    list/tuple/dict holding one."""
    if depth > _MAX_DEPTH:
        return False
    if is_leaf(obj) or _is_module(obj) or _is_keras_layer(obj) or _is_keras_optimizer(obj):
        return True
    if hasattr(type(obj), "_trackable_children"):
        return True
    if isinstance(obj, (list, tuple)):
        return any(is_trackable(v, depth + 1) for v in obj)
    if isinstance(obj, dict):
        return any(is_trackable(v, depth + 1) for v in obj.values())
    return False


def escape(name):
    """A child's name as it appears in a checkpoint key: TF escapes '.' as '..' and '/' as '.S'."""
    return str(name).replace(".", "..").replace("/", ".S")


class _Node:
    """A grouping object that exists in the checkpoint but not as one Python object (`_functional`)."""

    def __init__(self, items):
        self._items = items

    def _trackable_children(self):
        return list(self._items)


class _OptimizerVariables(list):
    """A Keras optimizer's `_variables` list: [iterations, learning_rate, slots...] (no learning_rate
    when it is a schedule, as in Keras 3). Slots the
    checkpoint holds for an optimizer not built yet are handed to its update rule, which attaches
    them by position on the first step (deferred restoration)."""

    def __init__(self, optimizer, items):
        super().__init__(items)
        self.optimizer = optimizer

    def defer_children(self, values):
        """values: {index as str: numpy array} for the slot indices this optimizer has no slot for yet."""
        opt = self.optimizer
        first = opt._first_slot()
        rule = opt._rule
        if rule.state:
            return False                     # built with another layout: leave them unmatched
        active = set(rule.slot_inits())
        blocks = [[s for s in block if s in active] for block in opt._slot_blocks]
        per_var = sum(len(b) for b in blocks)
        indices = sorted(int(k) for k in values)
        if not per_var or len(indices) % per_var or indices != list(range(first, first + len(indices))):
            return False
        n = len(indices) // per_var
        state, index = {}, first
        for block in blocks:
            for position in range(n):
                for slot in block:
                    st = state.setdefault(position, {"step": rule.iterations})
                    st[slot] = torch.from_numpy(values[str(index)].copy())
                    index += 1
        rule.load_state_dict({"form": rule.form, "iterations": rule.iterations, "state": state})
        return True


def _optimizer_children(opt):
    rule = opt._rule

    def write_iterations(array):
        rule.iterations = int(array.reshape(()))

    iterations = ValueRef(lambda: torch.tensor(rule.iterations, dtype=torch.int64), write_iterations,
                          f"{opt.name}/iterations")
    built = [v for v in rule.params if v in rule.state]
    slots = []
    first = opt._first_slot()               # Keras 3 keeps no learning-rate variable for a schedule
    for index, slot, var in opt._keras_slots(built, first):
        def read(var=var, slot=slot):
            return rule.state[var][slot]

        def write(array, var=var, slot=slot):
            target = rule.state[var][slot]
            target.copy_(torch.as_tensor(array).to(device=target.device, dtype=target.dtype))
        slots.append(ValueRef(read, write, f"{opt.name}/{slot}_{index}"))
    rate = [opt._lr_var] if first == 2 else []
    out = [("_iterations", iterations)] + [("_learning_rate", v) for v in rate] + [
        ("_variables", _OptimizerVariables(opt, [iterations] + rate + slots))]
    if built:
        out.append(("_trainable_variables", list(built)))
    return out


def _layer_children(layer):
    out = []
    own = vars(layer)
    if isinstance(own.get("_stack"), list) and hasattr(layer, "_input_layer"):   # Sequential: wraps a Functional
        ops = [layer._input_layer] + list(own["_stack"])
        out.append(("_functional", _Node([("_operations", ops)])))
    elif "_layer_order" in own:                                 # Functional: inputs first, then call order
        out.append(("_operations", list(own["_layer_order"])))
    else:
        for name, p in layer._parameters.items():
            if p is not None:
                out.append((keras_child_name(name), p))
        for name in own.get("_tracked", ()):
            value = getattr(layer, name, None)
            if value is not None and is_trackable(value):
                out.append((name, value))
    opt = own.get("optimizer")
    if opt is not None and _is_keras_optimizer(opt):
        out.append(("optimizer", opt))
    return out


def children(obj):
    """[(name, child)] of one object, in the order TensorFlow lists them."""
    if is_leaf(obj):
        return []
    if hasattr(type(obj), "_trackable_children"):
        return list(obj._trackable_children())
    if isinstance(obj, (list, tuple)):
        return [(str(i), v) for i, v in enumerate(obj) if v is not None and is_trackable(v)]
    if isinstance(obj, dict):
        return [(str(k), v) for k, v in obj.items() if is_trackable(v)]
    if _is_keras_optimizer(obj):
        return _optimizer_children(obj)
    if _is_keras_layer(obj):
        return _layer_children(obj)
    return [(k, v) for k, v in vars(obj).items()
            if k not in _MODULE_PRIVATE and not k.startswith("_Module__") and is_trackable(v)]


def notify_attach(parent, name, value):
    """Tell the checkpoint code that `value` now hangs below `parent` as `name`."""
    for hook in list(attach_hooks):
        hook(parent, name, value)
