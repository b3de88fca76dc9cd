"""Keras 3's weights file (`model.weights.h5`, alone or inside a `.keras` zip).

Every weight is an HDF5 dataset at a path Keras derives from the model:
    Sequential/Functional: layers/<layer name>/vars/<i>
    subclassed models:     <attribute name>/vars/<i>  (then layers/<name> for the rest)
    the optimizer:         optimizer/vars/<i>  (what its `save_own_variables` writes)
Reading checks every weight first and assigns only after, so a file that does not fit changes nothing.
"""
import numpy as np

from course.keras.hdf5_guard import h5py_module
from course.keras.layers.base import Layer, to_snake_case
from course.keras.saving.configs import SavingError
from course.keras.saving.serialization import builtin_model_name, is_model

__all__ = ["weight_path", "layer_entries", "write_h5", "read_h5", "H5Store"]


def weight_path(model, weight):
    """Keras 3's `variable.path` of one of `model`'s weights: 'sequential/dense/kernel'."""
    return f"{model.name}/{getattr(weight, 'path', None) or weight.name.split(':')[0]}"


def layer_entries(model):
    """[(path, layer)] for every layer with a group in the file, in Keras' path scheme."""
    out, visited = [], set()

    def visit(obj, path):
        if id(obj) in visited:
            return
        visited.add(id(obj))
        out.append((path, obj))
        for child_path, child in _children(obj):
            visit(child, f"{path}/{child_path}" if path else child_path)

    def container(prefix, items):
        """Keras names the layers of a list by class (dense, dense_1, ...), not by their own names."""
        used = {}
        for layer in items:
            if not isinstance(layer, Layer):
                continue
            base = to_snake_case(type(layer).__name__)
            used[base] = used.get(base, -1) + 1
            name = base if used[base] == 0 else f"{base}_{used[base]}"
            if id(layer) not in visited:
                yield f"{prefix}/{name}", layer

    def _children(obj):
        if builtin_model_name(obj) is not None:          # Sequential, Functional: a list of layers
            yield from container("layers", obj.layers)
            return
        items = {name: getattr(obj, name) for name in obj._tracked}
        if is_model(obj):
            items["layers"] = obj._sublayers()
        for attr in sorted(items):
            value = items[attr]
            if isinstance(value, Layer):
                if id(value) not in visited:
                    yield attr, value
            elif isinstance(value, (list, tuple)):
                yield from container(attr, value)

    visit(model, "")
    return out


def _own_vars(layer):
    """A layer's variables in Keras' store order: trainable ones first, then the others."""
    own = layer._own_weights
    return [w for w in own if w._trainable] + [w for w in own if not w._trainable]


class H5Store:
    """The `store` of Keras' `save_own_variables`/`load_own_variables`: an HDF5 group seen as
    {"0": array, "1": array, ...}; only datasets are values (a group under a key is not)."""

    def __init__(self, group):
        self.group = group

    def __setitem__(self, key, value):
        self.group.create_dataset(key, data=value)

    def __getitem__(self, key):
        obj = self.group.get(key)
        if not isinstance(obj, h5py_module().Dataset):
            raise KeyError(key)
        return np.asarray(obj)

    def __contains__(self, key):
        return isinstance(self.group.get(key), h5py_module().Dataset)

    def keys(self):
        return list(self.group.keys())


def write_h5(model, path, include_optimizer):
    h5py = h5py_module()
    with h5py.File(path, "w") as f:
        for prefix, layer in layer_entries(model):
            group = f.create_group(f"{prefix}/vars" if prefix else "vars")
            group.attrs["name"] = layer.name
            for i, var in enumerate(_own_vars(layer)):
                group.create_dataset(str(i), data=var.numpy())
        opt = getattr(model, "optimizer", None)
        if include_optimizer and opt is not None and opt.built:
            group = f.create_group("optimizer/vars")
            group.attrs["name"] = opt.name
            opt.save_own_variables(H5Store(group))


def read_h5(model, f, *, skip_mismatch=False, load_optimizer=False, source="file"):
    """Copy the weights of the open, checked HDF5 file `f` into `model`. Every weight is read and
    checked first and assigned only after, so a file that does not fit changes nothing."""
    problems, ready = [], []
    h5py = h5py_module()
    for prefix, layer in layer_entries(model):
        own = _own_vars(layer)
        if not own:
            continue
        key = f"{prefix}/vars" if prefix else "vars"
        group = f.get(key)
        if not isinstance(group, h5py.Group):
            problems.append(f"no weights for layer {layer.name!r} (expected group {key!r})")
            continue
        stored = list(group.keys())
        if len(stored) != len(own) or not all(isinstance(group.get(str(i)), h5py.Dataset) for i in range(len(own))):
            problems.append(f"layer {layer.name!r} has {len(own)} weights, the file has {len(stored)} at {key!r}")
            continue
        for i, var in enumerate(own):
            value = np.asarray(group[str(i)])
            if value.shape != tuple(var.shape):
                problems.append(f"{key}/{i}: file shape {value.shape}, layer {layer.name!r} weight "
                                f"{var._name} shape {tuple(var.shape)}")
                continue
            ready.append((var, value.astype(np.float32) if value.dtype != np.float32 else value))
    if problems and not skip_mismatch:
        raise SavingError(f"The weights in {source} do not fit this model (nothing was loaded):\n  - " +
                          "\n  - ".join(problems) +
                          "\nBuild the same architecture (same layers, units and input shape) before loading.")
    for var, value in ready:
        var.assign(value)
    optimizer = getattr(model, "optimizer", None)
    if load_optimizer and optimizer is not None and isinstance(f.get("optimizer/vars"), h5py.Group):
        optimizer.build(model.trainable_variables)      # Keras builds it on the model's variables, then loads
        optimizer.load_own_variables(H5Store(f["optimizer/vars"]))
