"""`tf.Session`: runs the part of a graph that fetches need, with values fed for placeholders.

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        loss_value, _ = sess.run([loss, train_step], feed_dict={x: xb, y_: yb})

`run` accepts a tensor, an op, a tensor or op name ('x-input:0'), a Variable, or nested
lists/tuples/namedtuples/dicts of them, and returns the same structure with numpy values (None
for ops). Each distinct (fetches, feed keys) signature gets an execution plan -- pruned,
validated, placed, bound and compiled -- that is cached, so the second `run` with the same
signature only converts the feeds and calls one generated function (`plan_cache_info()` counts
hits). `Session(executor="interpreter")` runs the same plans node by node instead.
"""
import collections.abc
import os

import torch

from course.graph.graph import Graph, Tensor, default_session, get_default_graph, leave_defaults
from course.graph.plan import Interpreter, build_plan, compile_plan
from course.graph.runtime import Runtime

__all__ = ["Session", "InteractiveSession", "ConfigProto", "GPUOptions", "RunOptions", "RunMetadata",
           "EXECUTORS"]

EXECUTORS = ("compiled", "interpreter")


class GPUOptions:
    def __init__(self, allow_growth=False, per_process_gpu_memory_fraction=0.0, visible_device_list="", **kwargs):
        self.allow_growth, self.per_process_gpu_memory_fraction = allow_growth, per_process_gpu_memory_fraction
        self.visible_device_list = visible_device_list
        self.__dict__.update(kwargs)


class ConfigProto:
    """Session options. `allow_soft_placement` lets ops pinned to a missing GPU run on the CPU;
    `log_device_placement` prints where each op of a plan runs. Other fields are accepted and kept."""

    def __init__(self, allow_soft_placement=False, log_device_placement=False, gpu_options=None, device_count=None,
                 intra_op_parallelism_threads=0, inter_op_parallelism_threads=0, graph_options=None, **kwargs):
        self.allow_soft_placement, self.log_device_placement = allow_soft_placement, log_device_placement
        self.gpu_options = gpu_options or GPUOptions()
        self.device_count = dict(device_count or {})
        self.intra_op_parallelism_threads = intra_op_parallelism_threads
        self.inter_op_parallelism_threads = inter_op_parallelism_threads
        self.graph_options = graph_options
        self.__dict__.update(kwargs)

    def __repr__(self):
        return (f"ConfigProto(allow_soft_placement={self.allow_soft_placement}, "
                f"log_device_placement={self.log_device_placement})")


class RunOptions:
    FULL_TRACE = 3
    NO_TRACE = 0

    def __init__(self, trace_level=0, **kwargs):
        self.trace_level = trace_level
        self.__dict__.update(kwargs)


class RunMetadata:
    def __init__(self):
        self.step_stats = None


# -- fetch structures -------------------------------------------------------------------------------------
def _freeze(fetches):
    """A hashable key for a fetch structure: lists, tuples and dicts become tuples tagged with their
    type (a namedtuple equals the plain tuple of its fields, and `{1: t}` equals `{True: t}`, yet each
    gets its own plan, rebuilding its own structure)."""
    if isinstance(fetches, list):
        return ("__list__",) + tuple(_freeze(f) for f in fetches)
    if isinstance(fetches, tuple):
        return (type(fetches),) + tuple(_freeze(f) for f in fetches)
    if isinstance(fetches, dict):
        return ("__dict__", type(fetches)) + tuple((type(k), k, _freeze(v)) for k, v in fetches.items())
    try:
        hash(fetches)
    except TypeError:
        raise _fetch_type_error(fetches) from None
    return fetches


def _fetch_type_error(f):
    return TypeError(f"Fetch argument {f!r} has invalid type {type(f)}, must be a string or Tensor. (Can not "
                     f"convert a {type(f).__name__} into a Tensor or Operation.)")


def _check_feed_dict(feed_dict):
    if feed_dict is not None and not isinstance(feed_dict, collections.abc.Mapping):
        raise TypeError(f"FlattenDictItems: 'dict' must be a dictionary or collection.Mapping type object, "
                        f"instead of '{type(feed_dict).__name__}'.")


def _flatten(fetches, graph):
    """(unique flat list of Tensors/Operations, function rebuilding the structure from their values)."""
    flat, index = [], {}

    def leaf(f):
        if f is None:
            raise TypeError(f"Fetch argument None has invalid type {type(None)}")
        try:
            el = graph.as_graph_element(f, allow_tensor=True, allow_operation=True)
        except (TypeError, ValueError, KeyError) as exc:
            msg = exc.args[0] if exc.args else str(exc)
            if isinstance(exc, TypeError):
                raise _fetch_type_error(f) from None
            raise ValueError(f"Fetch argument {f!r} cannot be interpreted as a Tensor. ({msg})") from None
        if el not in index:
            index[el] = len(flat)
            flat.append(el)
        return index[el]

    def build(f):
        if isinstance(f, list):
            subs = [build(x) for x in f]
            return lambda v: [s(v) for s in subs]
        if isinstance(f, tuple):
            subs = [build(x) for x in f]
            if hasattr(f, "_fields"):
                cls = type(f)
                return lambda v: cls(*[s(v) for s in subs])
            return lambda v: tuple(s(v) for s in subs)
        if isinstance(f, dict):
            cls, items = type(f), [(k, build(x)) for k, x in f.items()]
            return lambda v: cls((k, s(v)) for k, s in items)
        i = leaf(f)
        return lambda v: v[i]

    return flat, build(fetches)


_grad_enabled, _set_grad_enabled = torch.is_grad_enabled, torch._C._set_grad_enabled


def _without_grad(plan, values):
    """plan(*values) under no_grad, without the context manager's cost (a step is ~20 small ops)."""
    if not _grad_enabled():
        return plan(*values)
    _set_grad_enabled(False)
    try:
        return plan(*values)
    finally:
        _set_grad_enabled(True)


class Session:
    """`tf.Session(target='', graph=None, config=None)` on the CPU or the GPU course.device picks.

    Our own keyword `executor` chooses how plans run: 'compiled' (default, one generated Python
    function per signature) or 'interpreter' (node by node, for teaching); the COURSE_GRAPH_EXECUTOR
    environment variable sets the default. `device` overrides the session's default device.
    """

    def __init__(self, target="", graph=None, config=None, *, executor=None, device=None):
        if target:
            raise NotImplementedError(f"Session(target={target!r}): distributed TensorFlow is not supported; use "
                                      "Session() for the local machine.")
        self._graph = graph if graph is not None else get_default_graph()
        if not isinstance(self._graph, Graph):
            raise TypeError(f"graph must be a tf.Graph; got {type(self._graph).__name__}.")
        self._config = config or ConfigProto()
        self._rt = Runtime(device, soft_placement=bool(self._config.allow_soft_placement),
                           log_placement=bool(self._config.log_device_placement))
        self._plans = {}
        self._hits = self._misses = 0
        self._closed = False
        self._contexts = []
        self.executor = executor or os.environ.get("COURSE_GRAPH_EXECUTOR", "compiled")

    @property
    def executor(self):
        return self._executor

    @executor.setter
    def executor(self, value):
        if value not in EXECUTORS:
            raise ValueError(f"executor must be one of {EXECUTORS}; got {value!r}.")
        self._executor = value
        self._rt.executor = value          # control-flow ops run their branches the same way
        self._plans = {}

    @property
    def graph(self):
        return self._graph

    @property
    def graph_def(self):
        """The graph as a GraphDef protobuf (needs the tensorboard package for the protobuf classes)."""
        return self._graph.as_graph_def()

    @property
    def device(self):
        """The torch device ops without an explicit placement run on."""
        return self._rt.device

    # -- running ----------------------------------------------------------------------------------------
    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Evaluate `fetches` with `feed_dict` {placeholder (or tensor, or name): value}."""
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        _check_feed_dict(feed_dict)
        keys = tuple(feed_dict) if feed_dict else ()
        key = (_freeze(fetches) if isinstance(fetches, (list, tuple, dict)) else fetches, keys)
        try:
            plan = self._plans.get(key)
        except TypeError:                             # an unhashable fetch (a set, an array) or feed key
            key = (_freeze(fetches), keys)
            plan = self._plans.get(key)
        if plan is None:
            plan = self._plan(fetches, keys)
            self._plans[key] = plan
            self._misses += 1
        else:
            self._hits += 1
        return _without_grad(plan, feed_dict.values() if keys else ())

    def make_callable(self, fetches, feed_list=None, accept_options=False):
        """A function `f(*feed_values)` running `fetches` with values for `feed_list` in order."""
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        keys = tuple(feed_list or ())
        plan = self._plan(fetches, keys)

        def call(*values, **kwargs):
            if self._closed:
                raise RuntimeError("Attempted to use a closed Session.")
            if len(values) != len(keys):
                raise TypeError(f"This callable takes {len(keys)} feed values ({[str(k) for k in keys]}); got "
                                f"{len(values)}.")
            return _without_grad(plan, values)
        return call

    def _plan(self, fetches, keys):
        flat, rebuild = _flatten(fetches, self._graph)
        feeds = []
        for k in keys:
            try:
                t = self._graph.as_graph_element(k, allow_tensor=True, allow_operation=False)
            except (TypeError, ValueError, KeyError) as exc:
                msg = exc.args[0] if exc.args else str(exc)
                raise TypeError(f"Cannot interpret feed_dict key as Tensor: {msg}") from None
            if not isinstance(t, Tensor):
                raise TypeError(f"Cannot interpret feed_dict key as Tensor: {k!r}")
            if t in feeds:
                raise ValueError(f"Tensor {t.name} is fed twice (two feed_dict keys name it).")
            feeds.append(t)
        plan = build_plan(self._rt, flat, feeds, rebuild)
        if self._executor == "compiled":
            compile_plan(plan)
        else:
            plan.step, plan.executor = Interpreter(plan), "interpreter"
        return plan

    def plan_for(self, fetches, feed_dict=None):
        """The (cached) execution plan `run(fetches, feed_dict)` uses: `.source`, `.table()`, `.nodes`."""
        _check_feed_dict(feed_dict)
        keys = tuple(feed_dict) if feed_dict else ()
        key = (_freeze(fetches), keys)
        if key not in self._plans:
            self._plans[key] = self._plan(fetches, keys)
        return self._plans[key]

    def plan_cache_info(self):
        """{'hits', 'misses', 'size'} of this session's plan cache."""
        return {"hits": self._hits, "misses": self._misses, "size": len(self._plans)}

    # -- lifetime -----------------------------------------------------------------------------------------
    def close(self):
        if not self._closed:
            self._closed = True
            self._plans = {}
            self._rt.close()

    def as_default(self):
        """Make this the default session inside the `with` block (`t.eval()` and `op.run()` use it)."""
        return default_session(self)

    def __enter__(self):
        g = self._graph.as_default()
        s = self.as_default()
        g.__enter__()
        s.__enter__()
        self._contexts.append((g, s))
        return self

    def __exit__(self, exc_type, exc, tb):
        g, s = self._contexts.pop()
        s.__exit__(exc_type, exc, tb)
        g.__exit__(exc_type, exc, tb)
        self.close()
        return False

    def list_devices(self):
        return [self._rt.device]

    def __del__(self):
        try:
            self.close()
        except Exception:     # interpreter shutdown
            pass


class InteractiveSession(Session):
    """A Session that makes itself the default on creation (for notebooks): `t.eval()` works."""

    def __init__(self, target="", graph=None, config=None, *, executor=None, device=None):
        super().__init__(target, graph, config, executor=executor, device=device)
        self._default = self.as_default()
        self._default.__enter__()
        self._graph_ctx = self._graph.as_default() if graph is not None else None
        if self._graph_ctx is not None:
            self._graph_ctx.__enter__()

    def close(self):
        if not self._closed:
            super().close()
            leave_defaults(self._graph if self._graph_ctx is not None else None, self)


