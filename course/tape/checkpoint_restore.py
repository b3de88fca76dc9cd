"""Restoring an object checkpoint: pair the live objects with the saved object graph, and wait for the rest.

Restoring walks the live objects and the saved graph side by side and pairs children by name, so a
renamed Python variable does not matter but a renamed attribute does. Values whose objects do not exist
yet (a layer built on its first call, optimizer slots made on the first step) wait, and are assigned
when the object appears (deferred restoration: tf.Module attributes and torch's registration hooks
report new children). Every value is checked before any is assigned: a failed restore changes nothing.
The load statuses answer TensorFlow's assertions (assert_consumed, assert_existing_objects_matched, ...).
"""
import weakref

import numpy as np
import torch

from course.framework import dtypes as _dt
from course.framework.errors import InvalidArgumentError
from course.tape import trackable
from course.tape.checkpoint_files import OBJECT_GRAPH_KEY, CheckpointReader
from course.tape.variables import Variable

__all__ = ["read_into", "CheckpointLoadStatus", "InitializationOnlyStatus"]

def _live_name(obj):
    return repr(obj) if trackable.is_leaf(obj) else f"<{type(obj).__module__}.{type(obj).__name__} object>"


def _check_value(target, value, key):
    """value, once its shape and dtype are checked against target's (TF's errors, and what to do)."""
    current = target.read() if isinstance(target, trackable.ValueRef) else target
    want = tuple(current.shape)
    if tuple(value.shape) != want:
        name = target.name if isinstance(target, Variable) else key
        raise ValueError(f"Received incompatible tensor with shape {tuple(value.shape)} when attempting to restore "
                         f"variable with shape {want} and name {name}. Nothing was restored; build the object with "
                         "the shapes it had when it was saved.")
    dtype = torch.Tensor.dtype.__get__(current)
    if _dt.name(dtype) != value.dtype.name and not (value.dtype.kind == "f" and dtype.is_floating_point):
        raise InvalidArgumentError(None, None, f"tensor_name = {key}; expected dtype {_dt.proto_name(dtype)} does not "
                                   f"equal original dtype {_dt.proto_name(_dt.as_torch_dtype(value.dtype.name))}. "
                                   "Nothing was restored.")
    return value


def _assign(target, value):
    if isinstance(target, trackable.ValueRef):
        target.write(value)
    else:
        target.assign(torch.from_numpy(np.array(value)).to(torch.Tensor.dtype.__get__(target)))


class _Restore:
    """One restore: the saved graph, its values, which live objects matched which nodes, what waits."""

    def __init__(self, graph, values, prefix):
        self.nodes = graph["nodes"]
        self.values = values                           # {key: numpy array}
        self.prefix = prefix
        self.matched_nodes = set()
        self.bound = {}                                # id(live container) -> (weakref or object, node id)
        self.unmatched_live = {}                       # id -> live object with no saved counterpart
        self.consumed = set()

    def _node_children(self, node_id):
        node = self.nodes[node_id]
        return {c["name"]: c["node_id"] for c in node.get("children", ())}

    def walk(self, root, node_id, *, assign=True):
        """Pair `root` with `node_id` and everything below; returns [(target, value, key)] (assigned now
        unless assign=False)."""
        pending, deferred = [], []
        # `seen` holds the objects themselves: children() builds temporary wrappers (an optimizer's
        # variable list, its step as a ValueRef), and a freed one's id can come back as another's.
        queue, seen = [(root, node_id)], {}
        while queue:
            obj, nid = queue.pop(0)
            if id(obj) in seen:
                continue
            seen[id(obj)] = obj
            self.matched_nodes.add(nid)
            self.unmatched_live.pop(id(obj), None)
            node = self.nodes[nid]
            if trackable.is_leaf(obj):
                for attr in node.get("attributes", ()):
                    key = attr.get("checkpoint_key")
                    if attr.get("name") == "VARIABLE_VALUE" and key in self.values:
                        pending.append((obj, _check_value(obj, self.values[key], key), key))
                continue
            self._bind(obj, nid)
            saved = self._node_children(nid)
            live = trackable.children(obj)
            names = set()
            for name, child in live:
                names.add(name)
                if name in saved:
                    queue.append((child, saved[name]))
                elif id(child) not in self.bound:
                    self.unmatched_live.setdefault(id(child), child)
            missing = {name: cid for name, cid in saved.items() if name not in names}
            if missing and hasattr(obj, "defer_children"):
                deferred.append((obj, missing))
        if assign:
            for target, value, key in pending:
                _assign(target, value)
                self.consumed.add(key)
            for obj, missing in deferred:
                vals = {}
                for name, cid in missing.items():
                    keys = [a.get("checkpoint_key") for a in self.nodes[cid].get("attributes", ())]
                    if keys and keys[0] in self.values:
                        vals[name] = self.values[keys[0]]
                if vals and obj.defer_children(vals):
                    for name, cid in missing.items():
                        if name in vals:
                            self.matched_nodes.add(cid)
                            self.consumed.add(self.nodes[cid]["attributes"][0]["checkpoint_key"])
        return pending

    def _bind(self, obj, nid):
        try:
            self.bound[id(obj)] = (weakref.ref(obj), nid)
        except TypeError:                              # lists and dicts: their later items are not awaited
            pass

    def waiting(self):
        """True while some saved value is unassigned and an object it could go to is alive."""
        return bool(self.unresolved()) and any(ref() is not None for ref, _ in self.bound.values())

    def attach(self, parent, name, value):
        """A child appeared below a bound object: restore what its path holds."""
        entry = self.bound.get(id(parent))
        if entry is None or entry[0]() is not parent:
            return
        saved = self._node_children(entry[1])
        for candidate in (name, trackable.keras_child_name(name)):
            if candidate in saved and value is not None:
                self.walk(value, saved[candidate])
                return

    def unresolved(self):
        """Saved nodes with values that no live object took."""
        out = []
        for nid, node in enumerate(self.nodes):
            attrs = [a for a in node.get("attributes", ()) if a.get("checkpoint_key") in self.values]
            if attrs and nid not in self.matched_nodes:
                out.append(attrs)
        return out


_active = []                         # restores that still hold values for objects not created yet
_hooks_installed = False


def _on_attach(parent, name, value):
    for restore in list(_active):
        restore.attach(parent, name, value)
        if not restore.waiting():
            _active.remove(restore)


def _install_hooks():
    """tf.Module attributes call trackable.attach_hooks; torch reports parameters and sub-modules itself."""
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    trackable.attach_hooks.append(_on_attach)

    def on_parameter(module, name, param):
        if _active:
            _on_attach(module, name, param)

    def on_module(module, name, sub):
        if _active:
            _on_attach(module, name, sub)
    torch.nn.modules.module.register_module_parameter_registration_hook(on_parameter)
    torch.nn.modules.module.register_module_module_registration_hook(on_module)


def _attributes_text(attrs):
    a = attrs[0]
    return (f'attributes {{\n  name: "{a.get("name")}"\n  full_name: "{a.get("full_name")}"\n  checkpoint_key: '
            f'"{a.get("checkpoint_key")}"\n}}\nhas_checkpoint_values {{\n  value: true\n}}\n')


class CheckpointLoadStatus:
    """What `Checkpoint.restore` returns: assertions about how well the checkpoint matched."""

    def __init__(self, restore, root):
        self._restore = restore
        self._root = root

    def _paths(self):
        """{node id: '(root).a.b'} for the saved graph."""
        out, queue = {0: "(root)"}, [0]
        while queue:
            nid = queue.pop(0)
            for c in self._restore.nodes[nid].get("children", ()):
                if c["node_id"] not in out:
                    out[c["node_id"]] = f"{out[nid]}.{c['name']}"
                    queue.append(c["node_id"])
        return out

    def assert_existing_objects_matched(self):
        """Every live object reachable from the checkpoint's root has a saved value (AssertionError otherwise)."""
        self._restore.walk(self._root, 0, assign=False)            # objects created since count too
        live = [o for o in self._restore.unmatched_live.values() if trackable.is_leaf(o)]
        if live:
            shown = ", ".join(_live_name(o) for o in live[:10])
            raise AssertionError(f"Found {len(live)} Python objects that were not bound to checkpointed values, likely "
                                 f"due to changes in the Python program. Showing {min(len(live), 10)} of {len(live)} "
                                 f"unmatched objects: [{shown}]")
        return self

    def assert_consumed(self):
        """Every saved value was assigned and every live object matched (AssertionError otherwise)."""
        self.assert_existing_objects_matched()
        unresolved = self._restore.unresolved()
        if unresolved:
            paths = self._paths()
            for nid, node in enumerate(self._restore.nodes):
                if node.get("attributes") and nid not in self._restore.matched_nodes:
                    raise AssertionError(f"Unresolved object in checkpoint {paths.get(nid, nid)}: "
                                         f"{_attributes_text(node['attributes'])}")
        return self

    def assert_nontrivial_match(self):
        if not self._restore.consumed:
            raise AssertionError(f"Nothing except the root object matched a checkpointed value. Typically this means "
                                 f"that the checkpoint does not match the Python program. Checkpoint: "
                                 f"{self._restore.prefix}")
        return self

    def expect_partial(self):
        """Silence the warnings about unused values (none are printed here); returns self."""
        return self

    def run_restore_ops(self, session=None):
        """Eager mode: the values are already assigned."""

    def initialize_or_restore(self, session=None):
        """Eager mode: the values are already assigned."""


class InitializationOnlyStatus:
    """What `restore(None)` returns: nothing was restored; variables keep their initial values."""

    def assert_consumed(self):
        raise AssertionError("No checkpoint specified (save_path=None); nothing is being restored.")

    assert_existing_objects_matched = assert_consumed

    def assert_nontrivial_match(self):
        raise AssertionError("No checkpoint specified (save_path=None); nothing is being restored.")

    def expect_partial(self):
        return self

    def run_restore_ops(self, session=None):
        pass

    def initialize_or_restore(self, session=None):
        pass


def _valid_nodes(nodes):
    """Each node a dict whose children point at existing nodes and whose names are strings."""
    if len(nodes) > 10_000_000:
        return False
    for node in nodes:
        if not isinstance(node, dict):
            return False
        for c in node.get("children", ()):
            if (not isinstance(c, dict) or not isinstance(c.get("name"), str) or not isinstance(c.get("node_id"), int)
                    or not 0 <= c["node_id"] < len(nodes)):
                return False
        for a in node.get("attributes", ()):
            if not isinstance(a, dict) or not isinstance(a.get("checkpoint_key"), str):
                return False
    return True


def read_into(root, save_path):
    """Restore the checkpoint at `save_path` into `root` (a Checkpoint): assign what matches now, keep
    what waits for objects not created yet; returns a CheckpointLoadStatus."""
    reader = CheckpointReader(save_path)
    graph = reader.object_graph
    if not graph:
        raise ValueError(f"{save_path} is a name-based checkpoint (tf.compat.v1.train.Saver); restore it with "
                         "Saver.restore, or read its values with tf.train.load_checkpoint.")
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    if not isinstance(nodes, list) or not nodes or not _valid_nodes(nodes):
        raise ValueError(f"The object graph in checkpoint {save_path} is damaged; write the checkpoint again.")
    keys = {a.get("checkpoint_key") for node in nodes for a in node.get("attributes", ())}
    values = {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()
              if k in keys and k != OBJECT_GRAPH_KEY}
    restore = _Restore(graph, values, save_path)
    restore.walk(root, 0)
    _install_hooks()
    if restore.waiting():
        _active.append(restore)
    return CheckpointLoadStatus(restore, root)
