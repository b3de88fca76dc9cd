"""`tf.train.Checkpoint`: save the object graph, restore by matching it.

    ckpt = tf.train.Checkpoint(model=model, optimizer=optimizer, step=tf.Variable(0))
    path = ckpt.save("ckpts/ckpt")                 # "ckpts/ckpt-1"; also updates ckpts/checkpoint
    ckpt.restore(tf.train.latest_checkpoint("ckpts")).assert_consumed()

Saving walks the objects reachable from the checkpoint breadth first (course.tape.trackable) and keys
each variable by the first path that reaches it, as TensorFlow does. Restoring, with deferred
restoration of values whose objects do not exist yet, is course.tape.checkpoint_restore; numbered saves
that keep the newest few are course.tape.checkpoint_manager.
"""
import os

from course.tape import trackable
from course.tape.checkpoint_files import write_checkpoint, write_state
from course.tape.checkpoint_restore import InitializationOnlyStatus, read_into
from course.tape.tensor import to_numpy
from course.tape.variables import Variable

__all__ = ["Checkpoint", "object_graph"]

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
        return read_into(self, os.fspath(save_path))

    def restore(self, save_path, options=None):
        """Restore from `save_path` (a prefix such as 'ckpts/ckpt-3'); None restores nothing."""
        if save_path is None:
            return InitializationOnlyStatus()
        self.save_counter                                 # noqa: B018 - restored too, as TF does
        return self.read(save_path, options)
