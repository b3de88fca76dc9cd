"""Export a trained model so that it runs without the code that trained it: `torch.export`, ONNX.

Training needs the whole kit (layers, losses, optimizers, callbacks); serving needs only the
forward pass. Exporting traces the forward pass once, in inference mode, into a graph of
standard operators with the weights attached:

    program = export(model, example)        # torch.export.ExportedProgram, batch size symbolic
    save(program, "cnn.pt2")                 # torch.export.save: graph + weights in one file
    runner = load("cnn.pt2")                 # torch.export.load(...).module(), in any process:
    probs = runner(x)                        # needs torch only -- no `course`, no model class

    to_onnx(model, "cnn.onnx", example)      # the same graph in ONNX (needs `onnx`, `onnxscript`)

TensorFlow's counterparts are `model.export("dir")` / `tf.saved_model.save` (a SavedModel) and
tf2onnx. A course.keras model is a `torch.nn.Module` whose weights are `course.tape.Variable`s
(tensor subclasses with TensorFlow manners); `inference_module` gives torch.export a plain view
of it: the forward pass in inference mode (Dropout off), on plain tensors, with plain
`nn.Parameter` copies of the weights.
"""
from __future__ import annotations

import contextlib
import importlib.util
from pathlib import Path

import torch

from course.framework.convert import as_plain, no_dispatch

__all__ = ["inference_module", "training_module", "plain_parameters", "export", "save", "load",
           "to_onnx", "onnx_available",
           "max_abs_diff"]


class _KerasForward(torch.nn.Module):
    """`model(x, training=...)` on plain tensors (inference: what an exported Keras model computes)."""

    def __init__(self, model, training=False):
        super().__init__()
        self.model = model
        self.training_mode = bool(training)

    def forward(self, x):
        from course.keras.layers.call_context import call_context
        saved = (call_context.depth, call_context.training, call_context.losses)
        call_context.depth, call_context.training, call_context.losses = 1, self.training_mode, []
        try:
            with no_dispatch():
                return self.model._forward(x, self.training_mode)          # (N, classes)
        finally:
            call_context.depth, call_context.training, call_context.losses = saved


def _is_keras(model) -> bool:
    try:
        from course.keras.layers.base import Layer
    except ImportError:  # pragma: no cover - the engine is part of the package
        return False
    return isinstance(model, Layer)


def inference_module(model: torch.nn.Module) -> torch.nn.Module:
    """A torch module computing `model`'s inference-mode forward pass on plain tensors.

    A course.keras model is wrapped; any other `nn.Module` is put in eval mode and returned.
    """
    if _is_keras(model):
        return _KerasForward(model, training=False).eval()
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"export expects a torch.nn.Module (a course.keras model is one); got "
                        f"{type(model).__name__}.")
    try:
        return model.eval()
    except NotImplementedError:          # a module reloaded from torch.export is fixed in inference mode already
        return model


def training_module(model: torch.nn.Module) -> torch.nn.Module:
    """`model`'s training-mode forward pass (Dropout on) on plain tensors, for a hand-written loop;
    gradients reach the model's own weights. Any other `nn.Module` is put in train mode."""
    if _is_keras(model):
        return _KerasForward(model, training=True)
    return model.train()


@contextlib.contextmanager
def plain_parameters(module: torch.nn.Module):
    """Inside the block, every parameter that is a tensor subclass (a `Variable`) is replaced by a
    plain `nn.Parameter` holding a COPY of its value; the originals come back afterwards.

    torch.export cannot lift subclass parameters into the graph's inputs; the copies also keep an
    exported program independent of later training of the model.
    """
    swapped = []
    try:
        for mod in module.modules():
            for name, p in list(mod._parameters.items()):
                if p is not None and type(p) is not torch.nn.Parameter:
                    data = as_plain(p, detach=True, clone=True)
                    mod._parameters[name] = torch.nn.Parameter(data, requires_grad=p.requires_grad)
                    swapped.append((mod, name, p))
        yield module
    finally:
        for mod, name, p in swapped:
            mod._parameters[name] = p


@contextlib.contextmanager
def _traceable_plain():
    """Let the Keras layers' `plain(weight)` hand a plain Parameter through unchanged while tracing.

    `plain(v)` is `v.as_subclass(torch.Tensor)`: for a Variable it drops the TensorFlow manners,
    but torch.export cannot follow `as_subclass` (the new tensor object looks like an untracked
    constant). A plain `nn.Parameter` needs no conversion, so during export it is passed as is.
    """
    import sys
    try:
        from course.keras.layers import conversion
    except ImportError:  # pragma: no cover
        yield
        return
    original = conversion.plain
    probe = torch.nn.Parameter(torch.zeros(1))
    if original(probe) is probe:                     # nothing to do: the engine already passes it through
        yield
        return

    from course.tape import EagerTensor

    def passthrough(v):
        return original(v) if isinstance(v, EagerTensor) else v      # while tracing, weights are fake tensors

    patched = [m for name, m in list(sys.modules.items())
               if m is not None and name.startswith("course.keras") and getattr(m, "plain", None) is original]
    for m in patched:
        m.plain = passthrough
    try:
        yield
    finally:
        for m in patched:
            m.plain = original


def _example(example, module):
    if isinstance(example, tuple):
        return example
    device = next(module.parameters()).device if any(True for _ in module.parameters()) else None
    t = example if isinstance(example, torch.Tensor) else torch.as_tensor(example)
    t = as_plain(t, floatx=True, device=device)
    return (t.clone(),)             # a slice would drag its whole base tensor into the saved sample inputs


def export(model: torch.nn.Module, example, *, dynamic_batch: bool = True) -> torch.export.ExportedProgram:
    """`torch.export.export` of `model`'s inference pass, traced on `example` (a batch, or a tuple
    of inputs). With `dynamic_batch` the first dimension stays symbolic, so any batch size runs."""
    module = inference_module(model)
    args = _example(example, module)
    if dynamic_batch and len(args[0]) < 2:
        raise ValueError(f"export(dynamic_batch=True) needs an example batch of at least 2 samples (torch.export "
                         f"specialises a size-1 dimension); got batch size {len(args[0])}.")
    dynamic = ({0: torch.export.Dim("batch")},) + (None,) * (len(args) - 1) if dynamic_batch else None
    with plain_parameters(module), _traceable_plain(), torch.no_grad():
        return torch.export.export(module, args, dynamic_shapes=dynamic)


def save(program, path, example=None) -> Path:
    """Write an exported program (or export `program`, a model, on `example` first) to `path` (.pt2)."""
    if not isinstance(program, torch.export.ExportedProgram):
        if example is None:
            raise ValueError("save(model, path, example): a model must be exported first, which needs an example "
                             "batch; pass example=x[:2] or export(model, x) yourself.")
        program = export(program, example)
    path = Path(path)
    torch.export.save(program, str(path))
    return path


def load(path) -> torch.nn.Module:
    """The module of an exported program saved by `save` (needs torch only)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No exported program at {str(path)!r}; write one with course.export.save(...).")
    return torch.export.load(str(path)).module()


def onnx_available() -> bool:
    """True when torch's ONNX exporter can run here (it needs the `onnx` and `onnxscript` packages)."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxscript"))


def to_onnx(model: torch.nn.Module, path, example, *, dynamic_batch: bool = True) -> Path:
    """Write `model`'s inference pass as an ONNX file (torch.onnx.export through torch.export).

    Raises ImportError naming what to install when `onnx`/`onnxscript` are missing; run the file
    with onnxruntime (`onnxruntime.InferenceSession(path).run(None, {"x": x})`).
    """
    if not onnx_available():
        raise ImportError("ONNX export needs the packages 'onnx' and 'onnxscript' (pip install onnx onnxscript; "
                          "onnxruntime to run the file). torch.export (course.export.save) needs neither.")
    module = inference_module(model)
    args = _example(example, module)
    dynamic = ({0: torch.export.Dim("batch")},) if dynamic_batch else None
    path = Path(path)
    with plain_parameters(module), _traceable_plain(), torch.no_grad():
        torch.onnx.export(module, args, str(path), input_names=["x"], output_names=["y"], dynamo=True,
                          dynamic_shapes=dynamic, external_data=False, verbose=False)
    return path


def max_abs_diff(a, b) -> float:
    """max |a - b| over all elements (tensors or arrays, any device)."""
    def plain(t):
        return as_plain(torch.as_tensor(t), detach=True, dtype=torch.float64, device="cpu")
    return float((plain(a) - plain(b)).abs().max())
