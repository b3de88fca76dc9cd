"""`tf.train.Checkpoint` and `tf.train.CheckpointManager`: save the object graph, restore by matching it.

    ckpt = tf.train.Checkpoint(model=model, optimizer=optimizer, step=tf.Variable(0))
    path = ckpt.save("ckpts/ckpt")                 # "ckpts/ckpt-1"; also updates ckpts/checkpoint
    ckpt.restore(tf.train.latest_checkpoint("ckpts")).assert_consumed()

Saving walks the objects reachable from the checkpoint breadth first (course.tape.trackable) and keys
each variable by the first path that reaches it, as TensorFlow does. Restoring walks the live objects
and the saved graph side by side and pairs children by name, so a renamed Python variable does not
matter but a renamed attribute does. Values whose objects do not exist yet (a layer built on its first
call, optimizer slots made on the first step) wait, and are assigned when the object appears (deferred
restoration). Every value is checked before any is assigned: a failed restore changes nothing.
"""
import os
import time
import weakref

import numpy as np
import torch

from course.framework import dtypes as _dt
from course.framework.errors import InvalidArgumentError
from course.tape import trackable
from course.tape.checkpoint_files import (OBJECT_GRAPH_KEY, CheckpointReader, checkpoint_exists, read_state,
                                          write_checkpoint, write_state)
from course.tape.tensor import to_numpy
from course.tape.variables import Variable

__all__ = ["Checkpoint", "CheckpointManager", "CheckpointLoadStatus", "InitializationOnlyStatus", "object_graph"]

_SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"


# -- saving ---------------------------------------------------------------------------------------------------
def object_graph(root, objects=None):
    """(graph, values): the saved object graph (TF's TrackableObjectGraph as JSON) and {key: tensor}.
    `objects`, a list, receives the live object of each node, in node order."""
    nodes, ids, values, paths = [], {}, {}, {}
    found = objects if objects is not None else []
    found.append(root)
    queue = [(root, ())]
    ids[id(root)] = 0
    nodes.append({"children": [], "attributes": []})
    keep = [root]                      # the objects of this walk stay alive until it ends (ids stay unique)
    while queue:
        obj, path = queue.pop(0)
        node = nodes[ids[id(obj)]]
        if trackable.is_leaf(obj):
            key = "/".join(trackable.escape(p) for p in path) + _SUFFIX
            node["attributes"].append({"name": "VARIABLE_VALUE", "full_name": getattr(obj, "_name", key),
                                       "checkpoint_key": key})
            values[key] = obj.read() if isinstance(obj, trackable.ValueRef) else obj
            continue
        for name, child in trackable.children(obj):
            keep.append(child)
            if id(child) not in ids:
                ids[id(child)] = len(nodes)
                nodes.append({"children": [], "attributes": []})
                found.append(child)
                paths[id(child)] = path + (name,)
                queue.append((child, path + (name,)))
            node["children"].append({"name": name, "node_id": ids[id(child)]})
    return {"nodes": nodes}, values


# -- restoring ------------------------------------------------------------------------------------------------
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
        queue, seen = [(root, node_id)], set()
        while queue:
            obj, nid = queue.pop(0)
            if id(obj) in seen:
                continue
            seen.add(id(obj))
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


# -- Checkpoint ------------------------------------------------------------------------------------------------
class Checkpoint:
    """`tf.train.Checkpoint(**trackables)`: save/write and restore/read the objects given."""

    def __init__(self, root=None, **kwargs):
        for key, value in [("root", root)] * (root is not None) + sorted(kwargs.items()):
            if not trackable.is_trackable(value):
                raise ValueError(f"`Checkpoint` was expecting {key} to be a trackable object (an object derived from "
                                 f"`Trackable`), got {value}. If you believe this object should be trackable (i.e. it "
                                 "is part of the TensorFlow Python API and manages state), please open an issue.")
            if key == "save_counter":
                raise ValueError("save_counter is the name Checkpoint keeps for its own counter; choose another.")
        self._root = root
        self._kwargs = dict(sorted(kwargs.items()))
        self._save_counter = None
        for key, value in self._kwargs.items():
            object.__setattr__(self, key, value)

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        if not name.startswith("_") and trackable.is_trackable(value):
            self._kwargs[name] = value
            trackable.notify_attach(self, name, value)

    def _trackable_children(self):
        out = trackable.children(self._root) if self._root is not None else []
        out += list(self._kwargs.items())
        if self._save_counter is not None:
            out.append(("save_counter", self._save_counter))
        return out

    @property
    def save_counter(self):
        """How many times `save()` ran (an int64 Variable, created on first use)."""
        if self._save_counter is None:
            object.__setattr__(self, "_save_counter", Variable(0, dtype="int64", trainable=False, name="save_counter"))
        return self._save_counter

    def write(self, file_prefix, options=None):
        """Write a checkpoint at exactly `file_prefix` (no counter, no state file); returns the prefix."""
        file_prefix = os.fspath(file_prefix)
        graph, values = object_graph(self)
        return write_checkpoint(file_prefix, values, graph)

    def save(self, file_prefix, options=None):
        """Write `<file_prefix>-<n>` (n counts saves) and record it in the folder's `checkpoint` file."""
        self.save_counter.assign_add(1)
        prefix = f"{os.fspath(file_prefix)}-{int(to_numpy(self.save_counter))}"
        self.write(prefix)
        folder = os.path.dirname(os.path.abspath(prefix))
        write_state(folder, os.path.abspath(prefix), [os.path.abspath(prefix)])
        return prefix

    def read(self, save_path, options=None):
        """Restore from `save_path` without creating the save counter; returns a load status."""
        save_path = os.fspath(save_path)
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
        restore.walk(self, 0)
        _install_hooks()
        if restore.waiting():
            _active.append(restore)
        return CheckpointLoadStatus(restore, self)

    def restore(self, save_path, options=None):
        """Restore from `save_path` (a prefix such as 'ckpts/ckpt-3'); None restores nothing."""
        if save_path is None:
            return InitializationOnlyStatus()
        self.save_counter                                 # noqa: B018 - restored too, as TF does
        return self.read(save_path, options)


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


# -- CheckpointManager -------------------------------------------------------------------------------------------
class CheckpointManager:
    """`tf.train.CheckpointManager`: numbered saves in one folder, the newest `max_to_keep` kept."""

    def __init__(self, checkpoint, directory, max_to_keep, keep_checkpoint_every_n_hours=None, checkpoint_name="ckpt",
                 step_counter=None, checkpoint_interval=None, init_fn=None):
        if not isinstance(checkpoint, Checkpoint):
            raise TypeError(f"CheckpointManager expects a tf.train.Checkpoint; got {type(checkpoint).__name__}.")
        if max_to_keep is not None and max_to_keep <= 0:
            raise ValueError(f"Expected a positive integer or `None` for `max_to_keep`, got {max_to_keep}.")
        if checkpoint_interval is not None and step_counter is None:
            raise ValueError("`step_counter` should be passed if `checkpoint_interval` is not None.")
        self._checkpoint, self._directory = checkpoint, os.fspath(directory)
        self._max_to_keep, self._keep_hours = max_to_keep, keep_checkpoint_every_n_hours
        self._prefix = os.path.join(self._directory, checkpoint_name)
        self._step_counter, self._interval, self._init_fn = step_counter, checkpoint_interval, init_fn
        self._last_step = None
        state = read_state(self._directory)
        self._maybe = []                                  # [(prefix, timestamp)] oldest first
        self._last_preserved = time.time()
        if state:
            stamps = state["timestamps"] if len(state["timestamps"]) == len(state["all"]) else [time.time()] * len(
                state["all"])
            self._maybe = [(p, t) for p, t in zip(state["all"], stamps)]
            self._latest = state["model"]
            if state["last_preserved"] is not None:
                self._last_preserved = state["last_preserved"]
        else:
            self._latest = None

    @property
    def directory(self):
        return self._directory

    @property
    def checkpoint(self):
        return self._checkpoint

    @property
    def checkpoints(self):
        """The prefixes being kept, oldest first."""
        return [p for p, _ in self._maybe]

    @property
    def latest_checkpoint(self):
        return self._latest if self._latest and checkpoint_exists(self._latest) else None

    @property
    def checkpoint_interval(self):
        return self._interval

    def _sweep(self):
        if self._max_to_keep is None:
            return
        while len(self._maybe) > self._max_to_keep:
            prefix, stamp = self._maybe.pop(0)
            if self._keep_hours and stamp - self._keep_hours * 3600 >= self._last_preserved:
                self._last_preserved = stamp           # kept for good: no longer managed
                continue
            for suffix in (".index", ".data-00000-of-00001"):
                if os.path.exists(prefix + suffix):
                    os.remove(prefix + suffix)

    def save(self, checkpoint_number=None, check_interval=True, options=None):
        """Save a numbered checkpoint (unless `checkpoint_interval` steps have not passed); its prefix or None."""
        if self._interval is not None:
            current = int(to_numpy(self._step_counter)) if isinstance(self._step_counter, torch.Tensor) else int(
                self._step_counter)
            if check_interval and self._last_step is not None and current < self._last_step + self._interval:
                return None
            self._last_step = current
        counter = self._checkpoint.save_counter
        counter.assign_add(1)
        number = int(to_numpy(counter)) if checkpoint_number is None else int(to_numpy(torch.as_tensor(
            checkpoint_number)) if isinstance(checkpoint_number, torch.Tensor) else checkpoint_number)
        prefix = f"{self._prefix}-{number}"
        self._checkpoint.write(prefix)
        now = time.time()
        self._maybe = [(p, t) for p, t in self._maybe if p != prefix] + [(prefix, now)]
        self._latest = prefix
        self._sweep()
        write_state(self._directory, prefix, self.checkpoints, [t for _, t in self._maybe], self._last_preserved)
        return prefix

    def restore_or_initialize(self):
        """Restore the newest checkpoint if there is one (its prefix), else run `init_fn` (None)."""
        if self.latest_checkpoint is not None:
            self._checkpoint.restore(self.latest_checkpoint)
            return self.latest_checkpoint
        if self._init_fn is not None:
            self._init_fn()
        return None
