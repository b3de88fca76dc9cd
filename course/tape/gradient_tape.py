"""`tf.GradientTape` on torch autograd.

TensorFlow records the ops run inside `with tf.GradientTape() as tape:` and differentiates the
record; torch records every op on tensors that require grad. The tape maps one onto the other:

- trainable Variables require grad, so they are watched from the start (unless
  `watch_accessed_variables=False`: then only `tape.watch`ed ones get gradients);
- `tape.watch(x)` on a constant makes it require grad (until the tape is done with it);
- `tape.gradient(target, sources)` is `torch.autograd.grad` of sum(target) (TF sums a non-scalar
  target, or weights it by `output_gradients`) with respect to the flattened sources, rebuilt into
  the sources' structure; unconnected or unwatched sources give None (or zeros with
  `unconnected_gradients='zero'`);
- the graph is kept (`retain_graph`) because two tapes may share it (a GAN's generator and
  discriminator tapes), and built differentiably (`create_graph`) when a tape is still recording,
  which is what makes gradients of gradients work with nested tapes;
- `stop_recording()` is `torch.no_grad()`.
torch records every op on a tensor that requires grad, tape or not; TF records only what runs while
the tape records. So the tape keeps its recording windows as ranges of torch's autograd sequence
numbers, and `gradient` walks back from the target only through nodes made inside a window: a loss
computed outside the tape, or before `reset()`, reaches nothing and gives None, as in TF.
`watched_variables()` lists the trainable Variables read while recording (and those `watch`ed).
"""
import enum
import functools

import torch

from course.framework import nest
from course.tape import tensor as _tensor
from course.tape.tensor import to_tensor, wrap
from course.framework.convert import as_plain

__all__ = ["GradientTape", "UnconnectedGradients", "recording_tapes", "custom_gradient", "note_variable_read",
           "autograd_wanted", "autograd_wanted_hooks"]

_recording = _tensor.RECORDING   # tapes inside their `with` block and not paused, innermost last
_watch_counts = {}               # id(tensor) -> number of tapes that switched requires_grad on
_LEAF = "AccumulateGrad"         # torch's node for a leaf tensor (a Variable, a watched constant)


def _sequence_now():
    """torch's autograd sequence number for a node made now (the counter only grows)."""
    with torch.enable_grad():
        probe = torch.zeros((), requires_grad=True)
        return (probe * 1).grad_fn._sequence_nr()


def note_variable_read(variables):
    """Variables read while tapes record: TF's tapes watch them (see `watched_variables`)."""
    for tape in _recording:
        if tape._watch_accessed_variables:
            for v in variables:
                if getattr(v, "_trainable", False):
                    tape._accessed.setdefault(id(v), v)


_tensor.variable_read_hooks[:] = [note_variable_read]


class UnconnectedGradients(enum.Enum):
    NONE = "none"
    ZERO = "zero"


def recording_tapes():
    """The tapes currently recording (innermost last)."""
    return list(_recording)


# Engines that differentiate with torch autograd directly (Keras' fit) say here when they need a
# call to record: a traced tf.function then runs its graph with autograd on (it is off otherwise).
autograd_wanted_hooks = []


def autograd_wanted():
    """Should work done now be recorded for torch autograd (a tape records, or an engine asks)?"""
    return bool(_recording) or (torch.is_grad_enabled() and any(hook() for hook in autograd_wanted_hooks))


class GradientTape:
    """Record operations for automatic differentiation (see the module docstring for the mapping)."""

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self._persistent = bool(persistent)
        self._watch_accessed_variables = bool(watch_accessed_variables)
        self._watched = {}               # id -> tensor, explicitly watched
        self._switched = []              # tensors whose requires_grad this tape turned on
        self._used = False
        self._grad_ctx = None
        self._windows = []               # [start, end] autograd sequence numbers while recording
        self._accessed = {}              # id -> Variable read while recording (in order)
        self._backward_nodes = set()     # ids of nodes a differentiable backward pass made while recording

    # --- recording -------------------------------------------------------------------------------
    def __enter__(self):
        self._grad_ctx = torch.enable_grad()
        self._grad_ctx.__enter__()
        self._open()
        _recording.append(self)
        return self

    def _open(self):
        self._windows.append([_sequence_now(), None])

    def _close(self):
        if self._windows and self._windows[-1][1] is None:
            self._windows[-1][1] = _sequence_now()

    def __exit__(self, *exc):
        if self in _recording:
            _recording.remove(self)
        self._close()
        if self._grad_ctx is not None:
            self._grad_ctx.__exit__(*exc)
            self._grad_ctx = None
        return False

    def stop_recording(self):
        """A context in which nothing is recorded (torch.no_grad)."""
        if self not in _recording:
            raise ValueError("Tape.stop_recording() can only be called while the tape is recording "
                             "(inside its `with tf.GradientTape() as tape:` block).")
        return _Paused(self)

    def watch(self, tensor):
        """Record operations on `tensor` (or every tensor of a nested structure) from now on."""
        for t in nest.flatten(tensor):
            if _tensor.graph_hooks and _tensor.graph_hooks["is_symbolic"](t):
                self._watched[id(t)] = t          # a graph tensor inside a traced function
                continue
            if not isinstance(t, torch.Tensor):
                raise ValueError(f"tape.watch expects tensors (or nested structures of them); got "
                                 f"{type(t).__name__}. Convert it first with tf.constant(...).")
            if not (t.dtype.is_floating_point or t.dtype.is_complex):
                continue             # TF warns and ignores non-float tensors; their gradient is None
            self._watched[id(t)] = t
            if isinstance(t, torch.nn.Parameter):
                self._accessed.setdefault(id(t), t)
            if not t.requires_grad:
                t.requires_grad_(True)
                self._switched.append(t)
                _watch_counts[id(t)] = _watch_counts.get(id(t), 0) + 1

    def watched_variables(self):
        """The Variables this tape watches, in the order they were first read or watched."""
        return tuple(self._accessed.values())

    def reset(self):
        """Forget everything recorded so far and what was watched (a recording tape goes on recording)."""
        self._release()
        self._watched.clear()
        self._accessed.clear()
        self._backward_nodes.clear()
        recording = self in _recording
        self._windows = []
        if recording:
            self._open()

    def _release(self):
        for t in self._switched:
            n = _watch_counts.get(id(t), 1) - 1
            if n <= 0:
                _watch_counts.pop(id(t), None)
                if t.is_leaf and t.requires_grad:
                    t.requires_grad_(False)
            else:
                _watch_counts[id(t)] = n
        self._switched = []

    def __del__(self):
        try:
            self._release()
        except Exception:
            pass

    # --- differentiation -------------------------------------------------------------------------
    def _check_use(self, what):
        if self._used and not self._persistent:
            raise RuntimeError(f"A non-persistent GradientTape can only be used to compute one set of gradients "
                               f"(or jacobians). Create the tape with tf.GradientTape(persistent=True) to call "
                               f"{what}() more than once.")
        self._used = True

    def _differentiable(self, s):
        if not isinstance(s, torch.Tensor) or not s.requires_grad:
            return False
        if not self._watch_accessed_variables and isinstance(s, torch.nn.Parameter) and id(s) not in self._watched:
            return False
        return True

    def _inside(self, seq):
        return any(a < seq and (b is None or seq < b) for a, b in self._windows)

    def _reachable(self, targets):
        """The leaves (ids) and nodes reached from `targets` through nodes this tape recorded, and the
        unrecorded nodes where the walk stopped (their gradient is cut, see `_grad`)."""
        leaves, nodes, seen, cut = set(), set(), set(), []
        stack = []
        for t in targets:
            if t.grad_fn is None:
                leaves.add(id(t))
            else:
                stack.append(t.grad_fn)
        while stack:
            node = stack.pop()
            if node is None or node in seen:
                continue
            seen.add(node)
            if type(node).__name__ == _LEAF:
                leaves.add(id(node.variable))
                continue
            if id(node) not in self._backward_nodes and not self._inside(node._sequence_nr()):
                cut.append(node)         # made while this tape was not recording: TF has no record of it
                continue
            nodes.add(node)
            stack.extend(n for n, _ in node.next_functions)
        return leaves, nodes, cut

    def _connected(self, s, reach):
        leaves, nodes, _ = reach
        return id(s) in leaves if s.grad_fn is None else s.grad_fn in nodes

    @staticmethod
    def _grad(reach, outs, inputs, **kwargs):
        """torch.autograd.grad, with nothing flowing back through the unrecorded nodes."""
        handles = [node.register_prehook(_zero_grads) for node in reach[2]]
        try:
            grads = torch.autograd.grad(outs, inputs, **kwargs)
        finally:
            for h in handles:
                h.remove()
        if kwargs.get("create_graph"):
            _note_backward_nodes(grads, reach[1])
        return grads

    def _create_graph(self):
        return any(t is not self or self._persistent for t in _recording)

    def gradient(self, target, sources, output_gradients=None, unconnected_gradients=UnconnectedGradients.NONE):
        """d sum(target) / d source for each source, in the structure of `sources` (None if unconnected)."""
        self._check_use("gradient")
        zero = _zero_mode(unconnected_gradients)
        hooks = _tensor.graph_hooks
        if hooks and any(hooks["is_symbolic"](t) for t in nest.flatten(target)):
            result = hooks["gradient"](self, target, sources, output_gradients, zero)   # built as graph ops
            return result
        flat_sources = nest.flatten(sources)
        flat_targets = nest.flatten(target)
        flat_out = nest.flatten(output_gradients) if output_gradients is not None else [None] * len(flat_targets)
        outs, grads_out = [], []
        for t, g in zip(flat_targets, flat_out):
            if isinstance(t, torch.Tensor) and t.requires_grad:
                outs.append(t)
                # a weight broadcasts to its target (TF: a scalar weights every element)
                grads_out.append(torch.ones_like(as_plain(t)) if g is None else
                                 to_tensor(g, t.dtype, device=t.device).expand(t.shape))
        reach = self._reachable(outs)
        wanted = [i for i, s in enumerate(flat_sources) if self._differentiable(s) and self._connected(s, reach)]
        result = [None] * len(flat_sources)
        if outs and wanted:
            create = self._create_graph()
            grads = self._grad(reach, outs, [flat_sources[i] for i in wanted], grad_outputs=grads_out,
                               retain_graph=True, create_graph=create, allow_unused=True)
            for i, g in zip(wanted, grads):
                result[i] = None if g is None else wrap(as_plain(g))
        if zero:
            result = [wrap(torch.zeros_like(as_plain(s))) if r is None and isinstance(s, torch.Tensor) else r
                      for r, s in zip(result, flat_sources)]
        if not self._persistent:
            self._release()
        return nest.pack_sequence_as(sources, result)

    def jacobian(self, target, sources, unconnected_gradients=UnconnectedGradients.NONE, parallel_iterations=None,
                 experimental_use_pfor=True):
        """d target[i...] / d source[j...] for each source: shape target.shape + source.shape."""
        self._check_use("jacobian")
        zero = _zero_mode(unconnected_gradients)
        flat_sources = nest.flatten(sources)
        y = target
        result = [None] * len(flat_sources)
        reach = self._reachable([y]) if isinstance(y, torch.Tensor) and y.requires_grad else (set(), set(), [])
        wanted = [i for i, s in enumerate(flat_sources) if self._differentiable(s) and self._connected(s, reach)]
        if isinstance(y, torch.Tensor) and y.requires_grad and wanted:
            n = y.numel()
            inputs = [flat_sources[i] for i in wanted]
            create = self._create_graph()
            eye = torch.eye(n, dtype=y.dtype, device=y.device).reshape((n,) + tuple(y.shape))
            try:
                rows = self._grad(reach, y, inputs, grad_outputs=eye, retain_graph=True, create_graph=create,
                                  allow_unused=True, is_grads_batched=True)
            except RuntimeError:         # an op without a batching rule: one backward pass per element
                per = [self._grad(reach, y, inputs, grad_outputs=eye[k], retain_graph=True, create_graph=create,
                                  allow_unused=True) for k in range(n)]
                rows = [None if per[0][j] is None else torch.stack([p[j] for p in per]) for j in range(len(inputs))]
            for i, g in zip(wanted, rows):
                if g is not None:
                    result[i] = wrap(as_plain(g).reshape(tuple(y.shape) + tuple(flat_sources[i].shape)))
        if zero:
            result = [wrap(torch.zeros(tuple(y.shape) + tuple(s.shape), dtype=s.dtype, device=s.device))
                      if r is None else r for r, s in zip(result, flat_sources)]
        if not self._persistent:
            self._release()
        return nest.pack_sequence_as(sources, result)

    def batch_jacobian(self, target, source, unconnected_gradients=UnconnectedGradients.NONE,
                       parallel_iterations=None, experimental_use_pfor=True):
        """d target[b, i...] / d source[b, j...]: shape (batch,) + target.shape[1:] + source.shape[1:]."""
        full = self.jacobian(target, source, unconnected_gradients)
        if full is None:
            return None
        b = target.shape[0]
        t_rest, s_rest = tuple(target.shape[1:]), tuple(source.shape[1:])
        j = as_plain(full).reshape(b, -1, b, max(1, as_plain(source)[0].numel()))   # (b, T, b, S)
        diag = j.diagonal(dim1=0, dim2=2).permute(2, 0, 1)                           # (b, T, S)
        return wrap(diag.reshape((b,) + t_rest + s_rest))


def _note_backward_nodes(grads, known):
    """The nodes a differentiable backward pass made count as recorded by the tapes recording now.
    (Their sequence numbers may come from another thread: autograd runs CUDA backward passes on a
    thread per device, whose counter says nothing about this thread's recording windows.)"""
    stack = [g.grad_fn for g in grads if isinstance(g, torch.Tensor) and g.grad_fn is not None]
    made, seen = set(), set()
    while stack:
        node = stack.pop()
        if node is None or node in seen or node in known or type(node).__name__ == _LEAF:
            continue
        seen.add(node)
        made.add(id(node))
        stack.extend(n for n, _ in node.next_functions)
    for tape in _recording:
        tape._backward_nodes.update(made)


def _zero_grads(grad_outputs):
    return tuple(None if g is None else torch.zeros_like(g) for g in grad_outputs)


def _zero_mode(unconnected):
    value = unconnected.value if isinstance(unconnected, UnconnectedGradients) else str(unconnected).lower()
    if value not in ("none", "zero"):
        raise ValueError(f"unconnected_gradients must be 'none' or 'zero' (tf.UnconnectedGradients); "
            f"got {unconnected!r}.")
    return value == "zero"


class _Paused:
    def __init__(self, tape):
        self.tape = tape
        self.ctx = torch.no_grad()

    def __enter__(self):
        _recording.remove(self.tape)
        self.tape._close()
        self.ctx.__enter__()
        return self

    def __exit__(self, *exc):
        self.ctx.__exit__(*exc)
        self.tape._open()
        _recording.append(self.tape)
        return False


def custom_gradient(f=None):
    """`@tf.custom_gradient`: f(*x) returns (y, grad_fn) and grad_fn(dy) returns the gradients for x.

    Built on torch.autograd.Function: the forward runs f without recording; the backward calls
    grad_fn on the incoming gradient. Gradients for variables captured inside f are not supported."""
    if f is None:
        return custom_gradient

    def wrapper(*args, **kwargs):
        positions = [i for i, a in enumerate(args) if isinstance(a, torch.Tensor)]

        class _Custom(torch.autograd.Function):
            @staticmethod
            def forward(ctx, *tensors):
                call = list(args)
                for i, t in zip(positions, tensors):
                    call[i] = wrap(t)
                y, grad_fn = f(*call, **kwargs)
                ctx.grad_fn = grad_fn
                ctx.single = not isinstance(y, (list, tuple))
                ys = [y] if ctx.single else list(y)
                return tuple(as_plain(to_tensor(v)) for v in ys)

            @staticmethod
            def backward(ctx, *dys):
                g = ctx.grad_fn(*[wrap(d) for d in dys])
                g = list(g) if isinstance(g, (list, tuple)) else [g]
                if len(g) != len(positions):
                    raise ValueError(f"custom_gradient: grad_fn returned {len(g)} gradients for "
                                     f"{len(positions)} tensor inputs.")
                return tuple(None if v is None else as_plain(to_tensor(v)) for v in g)

        out = _Custom.apply(*[args[i] for i in positions])
        out = [wrap(o) for o in out]
        return out[0] if len(out) == 1 else tuple(out)

    return functools.wraps(f)(wrapper)
