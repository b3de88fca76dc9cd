"""Execution plans: the part of a graph one `Session.run` signature needs, ready to run.

`build_plan` prunes the graph to the ops the fetches need (stopping at fed tensors), orders them
(creation order is a topological order), places each on a device and binds its kernel to the
session (`registry.OpSpec.make`). The plan then runs in one of two ways, which must agree:

* `Interpreter` -- reads like `torch/fx/interpreter.py`: a loop over nodes with one dispatch
  line, `out = node.kernel(*args)`; an exception is re-raised naming the node that failed.
  Used for teaching and error reports (`Session(executor="interpreter")`).
* `compile_plan` -- generates the Python source of one step function, one line per node, e.g.

      def step(r0, r1):
          v0 = C0(r0)                   # feed x-input:0
          v3 = k3()                     # Variable (VariableV2)
          v5 = k5(v0, v3)               # MatMul (MatMul)
          ...
          k41(v30, v37)                 # Adam (ApplyAdam)
          return (None,)

  and compiles it with `compile()`: no per-node Python dispatch, constants inlined, identities
  elided, dead values deleted. Its source is registered with `linecache`, so a traceback shows
  the generated line; the line number also maps an exception back to the node that raised it.
"""
import itertools
import linecache

import numpy as np
import torch

from course.framework.errors import (InvalidArgumentError, OpError, ResourceExhaustedError, node_note)
from course.graph.graph import Tensor
from course.graph.registry import ConstKernel, REGISTRY, feed_missing_message
from course.framework import dtypes as _dt
from course.framework.shapes import tf1_str

__all__ = ["Node", "Plan", "build_plan", "Interpreter", "compile_plan", "to_numpy", "feed_converter"]

_plan_ids = itertools.count()


def to_numpy(t):
    """A fetched value as numpy: a copy (never a view of a variable), a numpy scalar for 0-d; a
    summary op's serialized protobuf stays bytes, as TensorFlow returns it."""
    if isinstance(t, bytes):
        return t
    if t.device.type != "cpu":
        t = t.cpu()
    if t.dtype == torch.bfloat16:
        t = t.float()
    a = t.numpy()
    return a.copy() if a.ndim else a[()]


def feed_converter(t, device):
    """A function checking and converting a fed value for tensor `t` (dtype, then static shape)."""
    np_dtype = _dt.numpy_dtype(t.dtype)
    want = t.dtype
    rank = t.shape.rank
    known = [] if rank is None else [(i, d) for i, d in enumerate(t.shape) if d is not None]
    integer = _dt.is_integer(want)
    name, shown = t.name, tf1_str(t.shape)
    on_cpu = device.type == "cpu"
    fits = set()                                              # numpy shapes that passed the static-shape check

    def shape_error(shape):
        return ValueError(f"Cannot feed value of shape {tuple(shape)} for Tensor '{name}', which has shape '{shown}'")

    def convert(value):
        if isinstance(value, Tensor) or hasattr(value, "_as_graph_element"):
            raise TypeError("The value of a feed cannot be a tf.Tensor object. Acceptable feed values include Python "
                            "scalars, strings, lists, numpy ndarrays, or TensorHandles. For reference, the tensor "
                            f"object was {value} which was passed to the argument `feed_dict` with key {t}. Run it "
                            "first (`sess.run(tensor)`) and feed the numpy value it returns.")
        if isinstance(value, torch.Tensor):
            if rank is not None and (value.dim() != rank or any(value.shape[i] != d for i, d in known)):
                raise shape_error(value.shape)
            return value.to(device=device, dtype=want)    # no detach: a tape around a traced call sees it
        try:
            arr = np.asarray(value, dtype=np_dtype)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"Cannot feed value of type {type(value).__name__} for Tensor '{name}' of dtype "
                             f"{_dt.proto_name(want)}: {exc}") from None
        if integer:
            src = value if isinstance(value, np.ndarray) else np.asarray(value)
            if src.dtype.kind == "f" and not np.array_equal(src, arr):
                raise TypeError(f"Type of feed value {value!r} is not compatible with Tensor '{name}' of type "
                                f"{_dt.proto_name(want)}: it has fractional parts. "
                                "Cast it, or use a float placeholder.")
        if arr.shape not in fits:                             # checked once per shape
            if rank is not None and (arr.ndim != rank or any(arr.shape[i] != d for i, d in known)):
                raise shape_error(arr.shape)
            if len(fits) < 64:
                fits.add(arr.shape)
        if not arr.flags.writeable or not arr.flags.c_contiguous:
            arr = np.ascontiguousarray(arr).copy() if not arr.flags.writeable else np.ascontiguousarray(arr)
        out = torch.from_numpy(arr)
        return out if on_cpu else out.to(device, non_blocking=True)
    return convert


class Node:
    """One op of a plan: its kernel, where its inputs come from, where it runs."""
    __slots__ = ("op", "kernel", "args", "device", "index")

    def __init__(self, op, kernel, args, device, index):
        self.op, self.kernel, self.args, self.device, self.index = op, kernel, args, device, index

    def __repr__(self):
        return f"Node({self.op.name!r}, {self.op.type}, {self.device})"


class Plan:
    """A pruned, ordered, bound graph for one fetch/feed signature of one session."""

    def __init__(self, nodes, feeds, fetches, rebuild):
        self.nodes = nodes              # [Node] in execution order
        self.feeds = feeds              # [(tensor, converter)] in feed_dict order
        self.fetches = fetches          # [Tensor or Operation]
        self.rebuild = rebuild          # flat fetched values -> the user's structure
        self.source = None              # generated source (compiled plans)
        self.step = None                # (*raw feed values) -> tuple of fetched values
        self.executor = None

    def __call__(self, *raw):
        return self.rebuild(self.step(*raw))

    def table(self):
        """The plan's nodes as a text table (same columns as Graph.table, plus the device)."""
        return self.nodes[0].op.graph.table([n.op for n in self.nodes]) if self.nodes else "(empty plan)"


def wrap_error(op, exc):
    """An exception raised by `op`'s kernel, as the TF error naming the node."""
    if isinstance(exc, OpError):
        return exc
    cls = ResourceExhaustedError if isinstance(exc, torch.cuda.OutOfMemoryError) else InvalidArgumentError
    return cls(None, op, f"{type(exc).__name__} in {op.type} op '{op.name}': {exc}{node_note(op)}")


def _prune(fetches, fed):
    needed, stack = set(), []
    for f in fetches:
        if isinstance(f, Tensor):
            if f not in fed:
                stack.append(f.op)
        else:
            stack.append(f)
    while stack:
        op = stack.pop()
        if op in needed:
            continue
        needed.add(op)
        refs = REGISTRY[op.type].refs
        for i, t in enumerate(op.inputs):
            if i not in refs and t not in fed:
                stack.append(t.op)
        stack.extend(op.control_inputs)
    return sorted(needed, key=lambda o: o._id)


def _device(rt, op):
    spec = REGISTRY[op.type]
    if spec.refs:                                   # ops writing a variable run where it lives
        return rt.device_for(op.inputs[spec.refs[0]].op)
    if "_colocate_with" in op.attrs:
        return rt.device_for(op.attrs["_colocate_with"])
    return rt.device_for(op)


def build_plan(rt, fetches, feeds, rebuild):
    """Prune, order, place and bind. `feeds`: [(tensor)] in the order values will be passed."""
    fed = {t: i for i, t in enumerate(feeds)}
    ops = _prune(fetches, fed)
    for op in ops:
        if op.type == "Placeholder":
            raise InvalidArgumentError(None, op, feed_missing_message(op) + node_note(op))
    where = {t: rt.device_for(t.op) for t in feeds}            # fed values land on their op's device
    feed_specs = [(t, feed_converter(t, where[t])) for t in feeds]
    nodes = []
    for i, op in enumerate(ops):
        device = _device(rt, op)
        if rt.log_placement:
            print(f"{op.name}: ({op.type}): /job:localhost/replica:0/task:0/device:{device.type.upper()}:"
                  f"{device.index or 0}")
        refs = REGISTRY[op.type].refs
        args = []
        for j, t in enumerate(op.inputs):
            if j in refs:
                continue
            src = where[t]
            args.append((t, device if src != device else None))
        kernel = REGISTRY[op.type].make(op, rt, device)
        nodes.append(Node(op, kernel, args, device, i))
        for t in op.outputs:
            if t not in fed:
                where[t] = device
    return Plan(nodes, feed_specs, list(fetches), rebuild)


class Interpreter:
    """Runs a plan node by node: the teaching executor (compare `torch.fx.Interpreter`).

        env = {fed tensor: value}
        for node in plan.nodes:
            env[outputs] = run_node(node)       # node.kernel(*input values): one dispatch line
        return [env[f] for f in fetches]
    """

    def __init__(self, plan):
        self.plan = plan
        self.env = {}

    def __call__(self, *raw):
        return self.run(*raw)

    def run(self, *raw):
        plan = self.plan
        self.env = env = {t: convert(value) for (t, convert), value in zip(plan.feeds, raw)}
        for node in plan.nodes:
            try:
                out = self.run_node(node)
            except Exception as exc:
                raise wrap_error(node.op, exc) from exc       # name the node that failed
            outs = node.op.outputs
            values = (out,) if len(outs) == 1 else (out or ())
            for t, v in zip(outs, values):
                env.setdefault(t, v)                          # a fed output keeps its fed value
        result = tuple(to_numpy(env[f]) if isinstance(f, Tensor) else None for f in plan.fetches)
        self.env = {}
        return result

    def fetch_args(self, node):
        """The node's input values, moved to its device where they were made elsewhere."""
        return [self.env[t] if dev is None else self.env[t].to(dev) for t, dev in node.args]

    def run_node(self, node):
        return node.kernel(*self.fetch_args(node))


_FOLD_LIMIT = 4096          # constant-folded results up to this many elements are kept in the plan


def _fold(node, spec, consts):
    """The outputs of `node` computed now, if they only depend on constants (TF's constant
    folding); None otherwise. Stateful ops (variables, random, updates) are never folded."""
    if isinstance(node.kernel, ConstKernel):
        return [node.kernel.value]
    if spec.stateful or not node.op.outputs or not node.args:
        return None
    if any(t not in consts or dev is not None for t, dev in node.args):
        return None
    try:
        with torch.no_grad():
            out = node.kernel(*[consts[t] for t, _ in node.args])
    except Exception:            # leave it to run time, where the error names the node
        return None
    out = list(out) if isinstance(out, (tuple, list)) else [out]
    if any(not isinstance(v, torch.Tensor) or v.numel() > _FOLD_LIMIT for v in out):
        return None
    return out


def _target(names, t, fed):
    return "_" if t in fed else names[t]          # a fed output keeps its fed value


def _comment(text):
    """`text` safe inside a generated comment: names are validated when the graph is built, and
    this escapes anything else (newlines, U+2028, non-ASCII), so no string becomes code."""
    return ascii(str(text))[1:-1]


def compile_plan(plan, raw=False):
    """Generate, compile and attach the step function of `plan`; returns it. `raw=True` returns the
    fetched values as torch tensors (a traced tf.function) instead of numpy (a Session)."""
    g = {"_np": (lambda v: v) if raw else to_numpy}
    names = {}                                   # Tensor -> local variable name
    lines, line_node = [], {}
    nfeed = len(plan.feeds)
    lines.append(f"def step({', '.join(f'r{j}' for j in range(nfeed))}):")
    for j, (t, convert) in enumerate(plan.feeds):
        g[f"C{j}"] = convert
        names[t] = f"f{j}"
        lines.append(f"    f{j} = C{j}(r{j})  # feed {_comment(t.name)}")
    fetched = {f for f in plan.fetches if isinstance(f, Tensor)}
    fed = {t for t, _ in plan.feeds}
    consts = {}                                  # Tensor -> value known when the plan is built
    last_use = {}
    for node in plan.nodes:
        for t, _ in node.args:
            last_use[t] = node.index
    for node in plan.nodes:
        op, i = node.op, node.index
        outs = [t for t in op.outputs]
        for t in outs:
            names.setdefault(t, f"v{i}_{t.value_index}" if len(outs) > 1 else f"v{i}")
        args = []
        for k, (t, dev) in enumerate(node.args):
            if dev is None:
                args.append(names[t])
            else:
                g[f"D{i}_{k}"] = dev
                args.append(f"{names[t]}.to(D{i}_{k})")
        comment = f"  # {_comment(op.name)} ({_comment(op.type)})"
        spec = REGISTRY[op.type]
        folded = _fold(node, spec, consts)
        if folded is not None:
            for t, value in zip(outs, folded):
                consts[t] = value
            g[f"T{i}"] = folded[0] if len(folded) == 1 else tuple(folded)
            line = f"{', '.join(_target(names, t, fed) for t in outs)} = T{i}"
            if not isinstance(node.kernel, ConstKernel):
                comment += " folded"
        elif spec.alias and not REGISTRY[op.type].stateful and len(outs) == 1:
            line = f"{_target(names, outs[0], fed)} = {args[0]}"
        else:
            g[f"k{i}"] = node.kernel
            call = f"k{i}({', '.join(args)})"
            if not outs:
                line = call
            else:
                line = f"{', '.join(_target(names, t, fed) for t in outs)} = {call}"
        lines.append("    " + line + comment)
        line_node[len(lines)] = node
        dead = [names[t] for t, _ in node.args if last_use.get(t) == i and t not in fetched]
        if dead:
            lines.append(f"    del {', '.join(sorted(set(dead)))}")
    rets = [f"_np({names[f]})" if isinstance(f, Tensor) else "None" for f in plan.fetches]
    lines.append(f"    return ({', '.join(rets)}{',' if len(rets) == 1 else ''})")
    src = "\n".join(lines) + "\n"
    filename = f"<graph-plan-{next(_plan_ids)}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    exec(compile(src, filename, "exec"), g)
    raw_step = g["step"]

    def step(*raw):
        try:
            return raw_step(*raw)
        except OpError:
            raise
        except Exception as exc:
            tb = exc.__traceback__
            while tb is not None:
                if tb.tb_frame.f_code.co_filename == filename and tb.tb_lineno in line_node:
                    raise wrap_error(line_node[tb.tb_lineno].op, exc) from exc
                tb = tb.tb_next
            raise
    plan.source, plan.step, plan.executor = src, step, "compiled"
    return step
