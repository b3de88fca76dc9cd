"""Named fixtures: objects a check hands to the learner's code that are not plain data.

A check cannot send a lambda, a model or an optimizer across the boundary; it sends
`Fixture("name", *plain_args)`, and the driver on the learner's side rebuilds the object with the
builder registered under that name. Builders are deterministic in their arguments, so a check builds
the same object on its own side with `fixture.local()` to compute the expected values.

    f = Fixture("function", "cube")          # the learner's gradient(f, x) receives x -> x*x*x
    transport.make(Fixture("tape_variables", arrays, names))   # kept there, used by later calls

The probes (course.exercises.probes) register here too; whoever builds or names fixtures by name
imports them first (the driver, course.exercises.remote), so this module imports neither.
"""
from __future__ import annotations

import random

__all__ = ["Fixture", "builder", "build", "names"]

_BUILDERS: dict = {}


class Fixture:
    """A fixture by name and plain arguments (the same on both sides of the boundary)."""

    def __init__(self, name: str, *args, **kwargs):
        if name not in _BUILDERS:
            raise KeyError(f"no fixture named {name!r}; known: {', '.join(sorted(_BUILDERS))}")
        self.name, self.args, self.kwargs = name, args, kwargs

    def local(self):
        """The same object, built in this process."""
        return build(self.name, *self.args, **self.kwargs)

    def __repr__(self):
        return f"Fixture({self.name!r})"


def builder(name: str):
    """Register the decorated function as the builder of fixture `name`."""
    def register(func):
        _BUILDERS[name] = func
        return func
    return register


def build(name, *args, **kwargs):
    if not isinstance(name, str) or name not in _BUILDERS:
        raise KeyError(f"no fixture named {name!r}")
    return _BUILDERS[name](*args, **kwargs)


def names() -> list[str]:
    return sorted(_BUILDERS)


# -- functions the learner's code receives (5.1, 5.2): written with the facade's ops ----------------
def _tf_functions():
    import numpy as np

    from course.tape import creation
    from course.tape import math_ops as m
    A = np.array([[1.0, 2.0, 0.0], [-1.0, 0.5, 3.0]], dtype=np.float32)     # (2, 3)
    return {
        "sum_square": lambda x: m.reduce_sum(m.square(x)),
        "cube": lambda x: x * x * x,
        "sum_sin_times_x": lambda x: m.reduce_sum(m.sin(x) * x),
        "logsumexp": lambda x: m.log(m.reduce_sum(m.exp(x))),
        "sum_square_Ax": lambda x: m.reduce_sum(m.square(m.matmul(creation.constant(A), x[:, None]))),
        "mean": lambda x: m.reduce_mean(x),
        "tanh": m.tanh,
        "sigmoid": m.sigmoid,
        "exp_sin": lambda x: m.exp(x) * m.sin(x),
        "square": lambda x: x * x,
    }


@builder("function")
def _function(name):
    return _tf_functions()[name]


@builder("constant")
def _constant(value):
    from course.tape import creation
    return creation.constant(value)


# -- state the learner's code updates (5.3, 5.4) ------------------------------------------------------
@builder("tape_variables")
def _tape_variables(arrays, names):
    from course.tape.variables import Variable
    return [Variable(a, name=n) for a, n in zip(arrays, names)]


@builder("keras_sgd")
def _keras_sgd(learning_rate):
    from course.keras.optimizers import SGD
    return SGD(learning_rate=learning_rate)


@builder("leaf_tensor")
def _leaf_tensor(array):
    import torch
    return torch.as_tensor(array).detach().clone().requires_grad_(True)


@builder("randrange")
def _randrange(seed):
    return random.Random(seed).randrange


# -- lesson 8: generators, initializers, models ---------------------------------------------------------
@builder("torch_generator")
def _torch_generator(seed):
    import torch
    return torch.Generator().manual_seed(seed)


@builder("counting_initializer")
def _counting():
    """An initializer whose values tell where each element went: 1, 2, 3, ... in the given shape."""
    import math

    import torch

    def counting_initializer(shape, dtype=torch.float32, **kwargs):
        return torch.arange(math.prod(shape), dtype=dtype).reshape(shape) + 1.0
    return counting_initializer


@builder("he_normal_initializer")
def _he_normal():
    from course.initializers import HeNormal
    return HeNormal()


@builder("torch_conv_net")
def _torch_conv_net():
    import torch
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Conv2d(4, 6, (5, 3)), torch.nn.ReLU(),
        torch.nn.Flatten(), torch.nn.Linear(6 * 4 * 6, 7), torch.nn.Linear(7, 3, bias=False))


@builder("torch_linear_conv")
def _torch_linear_conv():
    import torch
    return torch.nn.Sequential(torch.nn.Linear(400, 300), torch.nn.Conv2d(16, 64, 5))


# -- lesson 11: a small Keras model, its optimizer and loss -------------------------------------------
@builder("keras_dense_model")
def _keras_dense_model(seed, offset):
    """Dense(5, relu) -> Dense(3, softmax) on 4 inputs, Keras' initial weights (seeded) plus `offset`."""
    from course.keras import Sequential, layers
    from course.tape.random import set_seed
    set_seed(seed)
    model = Sequential([layers.Dense(5, activation="relu", input_shape=(4,)), layers.Dense(3, activation="softmax")])
    model.set_weights([w + offset for w in model.get_weights()])
    return model


@builder("keras_dropout_model")
def _keras_dropout_model(seed):
    from course.keras import Sequential, layers
    from course.tape.random import set_seed
    set_seed(seed)
    return Sequential([layers.Dense(6, input_shape=(4,)), layers.Dropout(0.5), layers.Dense(3, activation="softmax")])


@builder("keras_sgd_optimizer")
def _keras_sgd_optimizer(learning_rate):
    from course.keras import optimizers
    return optimizers.SGD(learning_rate=learning_rate)


@builder("keras_sparse_cce")
def _keras_sparse_cce():
    from course.keras import losses
    return losses.SparseCategoricalCrossentropy()


# -- lesson 12: iterators, recording transforms -------------------------------------------------------
@builder("iterator")
def _iterator(items):
    return iter(list(items))


class _RecordingTransform:
    """t * 2 - 1, remembering the shape of every input it was called with (in `calls`)."""

    def __init__(self):
        self.calls = []

    def __call__(self, image):
        self.calls.append(tuple(image.shape))
        return image * 2.0 - 1.0


@builder("recording_transform")
def _recording_transform():
    return _RecordingTransform()


# -- lesson 13: folders, writers, networks, files ----------------------------------------------------
@builder("tmp_folder")
def _tmp_folder():
    """A new empty folder on the learner's side (its path)."""
    import tempfile
    return tempfile.mkdtemp(prefix="course-check-")


@builder("make_folder")
def _make_folder(path):
    import os
    os.makedirs(path, exist_ok=True)
    return path


@builder("write_bytes")
def _write_bytes(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


class PowerCut(RuntimeError):
    """What the crashing writer raises halfway through a save."""


class _Writer:
    """write(path): writes `content` to path (remembering every path given); raises PowerCut if `crash`."""

    def __init__(self, content, crash):
        self.content, self.crash, self.given = content, crash, []

    def __call__(self, path):
        import os
        self.given.append(os.fspath(path))
        with open(path, "wb") as f:
            f.write(self.content)
        if self.crash:
            raise PowerCut("power cut")


@builder("writer")
def _writer(content, crash=False):
    return _Writer(content, crash)


@builder("torch_net_and_opt")
def _torch_net_and_opt(seed):
    """Linear(4, 5) -> ReLU -> Linear(5, 3) with seeded weights, and Adam(lr=0.01) on it."""
    import torch
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    return net, torch.optim.Adam(net.parameters(), lr=0.01)


_unpickled = []


def mark_unpickled():
    """Called by pickle when a planted file is loaded unsafely (see lesson 13's checks)."""
    _unpickled.append(True)


@builder("unpickled_count")
def _unpickled_count():
    """How many planted objects were unpickled since the last call (and reset)."""
    n = len(_unpickled)
    _unpickled.clear()
    return n


# -- lesson 14: the ring's network -----------------------------------------------------------------------
class _MessageLog:
    """send(step, src, dst, index, chunk): records each message (the chunk copied) in `messages`."""

    def __init__(self):
        self.messages = []

    def __call__(self, step, src, dst, index, chunk):
        import torch
        copy = chunk.detach().clone() if isinstance(chunk, torch.Tensor) else chunk
        self.messages.append((step, src, dst, index, copy))


@builder("message_log")
def _message_log():
    return _MessageLog()


@builder("torch_seed")
def _torch_seed(seed):
    """Seed torch's global generator on the learner's side (for code that draws from it)."""
    import torch
    torch.manual_seed(seed)
    return None


@builder("mnist_subset")
def _mnist_subset(part, start, n, order="given"):
    """Training data of an outcome task (course.exercises.outcome): MNIST's training images
    [start, start + n) as float32 (n, 784) in [0, 1] (part 'x') or their int64 labels (part 'y');
    order 'sorted' sorts them by label (a stable sort), as a badly prepared data set would be."""
    import numpy as np
    import torch

    from course.data.mnist import load_mnist_numpy
    (images, labels), _ = load_mnist_numpy()
    start, n = int(start), int(n)
    x, y = images[start:start + n], labels[start:start + n].astype(np.int64)
    if order == "sorted":
        keep = np.argsort(y, kind="stable")
        x, y = x[keep], y[keep]
    if part == "x":
        return torch.from_numpy(x.reshape(len(x), -1).astype(np.float32) / 255.0)
    return torch.from_numpy(y)
