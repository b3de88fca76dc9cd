"""The checks' side of the boundary: the learner's objects seen through plain data.

A check receives the learner's answer as plain data (a tensor, a number, a list...) or, for an
object that is not plain data (a function, a class, a model), as a `RemoteObject`: calling it,
reading an attribute or an item sends a request to the driver in the learner's process
(`course.exercises.driver`) and decodes the reply. The check compares what comes back with values it
computed itself; an object whose `__eq__` says True, a patched `torch.allclose` or a patched
`course.exercises` in the learner's process only ever changes the data that comes back, never the
comparison. Objects the learner's code must receive but that are not plain data (a function to
differentiate, a model, a fresh folder) are named fixtures (`course.exercises.fixtures`), built on
the learner's side from a name and plain arguments.

Two transports carry the requests: `KernelTransport` (the grader: code run in the learner's kernel,
the reply written to a file) and `LocalTransport` (`check()` in a notebook: same process, same JSON).
"""
from __future__ import annotations

import builtins
import contextlib
import secrets
from pathlib import Path

from course.exercises import codec, probes  # noqa: F401  (probes: registers the probe fixtures)
from course.exercises.fixtures import Fixture

__all__ = ["LearnerError", "ForbiddenUse", "CheckTimeout", "KernelCrashed", "NoReply", "RemoteObject", "MISSING",
           "Transport",
           "LocalTransport", "KernelTransport", "current", "using", "time_limit", "probe", "remote_type", "is_a"]


class LearnerError(Exception):
    """The learner's code raised; `remote_type` is the exception's class name, `trace` its short traceback."""

    def __init__(self, remote_type: str, message: str, trace: str = ""):
        super().__init__(message)
        self.remote_type, self.message, self.trace = remote_type, message, trace

    def __str__(self):
        return self.message


class CheckTimeout(RuntimeError):
    """The learner's code ran past its deadline while a check waited for it."""


class KernelCrashed(RuntimeError):
    """The learner's process died while a check waited for it."""


class ForbiddenUse(Exception):
    """The learner's function called what its exercise forbids (seen at run time)."""

    def __init__(self, names: list):
        super().__init__(", ".join(names))
        self.names = names


class NoReply(RuntimeError):
    """The learner's process finished without writing a reply (its driver was replaced or broken)."""


_SAFE_BASES = ("TypeError", "ValueError", "RuntimeError", "NotImplementedError", "AttributeError", "KeyError",
               "IndexError", "LookupError", "ZeroDivisionError", "ArithmeticError", "OverflowError",
               "AssertionError", "RecursionError", "StopIteration", "FileNotFoundError", "OSError")
_error_classes: dict[str, type] = {}


def _error_class(name: str) -> type:
    """LearnerError, also an instance of the builtin exception of the same name (so checks may catch it)."""
    if name not in _error_classes:
        cls = LearnerError
        if name in _SAFE_BASES:
            try:
                cls = type(f"Learner{name}", (LearnerError, getattr(builtins, name)), {})
            except TypeError:
                cls = LearnerError
        _error_classes[name] = cls
    return _error_classes[name]


def _learner_error(node) -> LearnerError:
    kind = node.get("type") if isinstance(node, dict) else None
    message = node.get("message") if isinstance(node, dict) else None
    trace = node.get("trace") if isinstance(node, dict) else None
    kind = kind if isinstance(kind, str) and kind.isidentifier() else "Exception"
    message = message if isinstance(message, str) else ""
    trace = trace if isinstance(trace, str) else ""
    error = _error_class(kind)(kind, message[:2000], trace[:4000])
    error.args = (message[:2000],)
    return error


class _Missing:
    def __repr__(self):
        return "<missing>"


MISSING = _Missing()


class RemoteObject:
    """An object that stays in the learner's process; every use is a request to it."""

    __slots__ = ("_transport", "_id", "_meta")

    def __init__(self, transport: "Transport", node: dict):
        object.__setattr__(self, "_transport", transport)
        object.__setattr__(self, "_id", node.get("id"))
        mro = node.get("mro") if isinstance(node.get("mro"), list) else []
        meta = {"type": str(node.get("type"))[:200], "mro": tuple(str(m)[:200] for m in mro[:64]),
                "is_class": node.get("is_class") is True, "callable": node.get("callable") is True}
        object.__setattr__(self, "_meta", meta)

    # -- what is known without asking -------------------------------------------------------------
    @property
    def remote_type(self) -> str:
        return self._meta["type"]

    def remote_isinstance(self, *names: str) -> bool:
        """True if the object's class (or, for a class, the class itself) has one of `names` in its
        MRO; a name matches a full 'module.Qualname' or its last part."""
        return any(m == n or m.endswith("." + n) for m in self._meta["mro"] for n in names)

    @property
    def remote_is_class(self) -> bool:
        return self._meta["is_class"]

    # -- requests ------------------------------------------------------------------------------------
    def _ask(self, op, **fields):
        return self._transport.request({"op": op, "target": {"$": "ref", "id": self._id}, **fields})

    def __call__(self, *args, **kwargs):
        """The learner's function on these arguments; changes it made to them in place are copied back
        into them, as if they had been passed by reference."""
        t = self._transport
        extra = {"watch": t.watch} if t.watch else {}
        result, args_after, kwargs_after, used = self._ask(
            "call", args=t.encode(list(args)), kwargs=t.encode(dict(kwargs)), args_after=True, **extra)
        if used:
            raise ForbiddenUse([str(u)[:100] for u in used[:5]] if isinstance(used, list) else ["?"])
        _write_back(list(args), args_after)
        _write_back(dict(kwargs), kwargs_after)
        return result

    def call_keep(self, *args, **kwargs) -> "RemoteObject":
        """Call, and keep the result on the learner's side (a handle even if it is plain data)."""
        t = self._transport
        return self._ask("call", args=t.encode(list(args)), kwargs=t.encode(dict(kwargs)), keep=True)

    def __getattr__(self, name):
        if name.startswith("__") and name not in ("__name__", "__qualname__"):
            raise AttributeError(name)
        try:
            return self._ask("getattr", name=name)
        except LearnerError as exc:
            if exc.remote_type == "AttributeError":
                raise AttributeError(f"{self.remote_type.rsplit('.', 1)[-1]} has no attribute {name!r}") from None
            raise

    def __setattr__(self, name, value):
        self._ask("setattr", name=name, value=self._transport.encode(value))

    def __getitem__(self, key):
        return self._ask("getitem", key=self._transport.encode(key))

    def __len__(self):
        n = self._ask("len")
        if type(n) is not int or n < 0:
            raise TypeError(f"len() of the learner's {self.remote_type} gave {n!r}")
        return n

    def __iter__(self):
        items = self._ask("iter")
        if not isinstance(items, list):
            raise TypeError(f"iterating the learner's {self.remote_type} gave {type(items).__name__}")
        return iter(items)

    def _convert(self, kind, types):
        value = self._ask("convert", to=kind)
        if type(value) not in types:
            raise TypeError(f"{kind}() of the learner's {self.remote_type} gave {type(value).__name__}")
        return value

    def __float__(self):
        return float(self._convert("float", (float, int)))

    def __int__(self):
        return self._convert("int", (int,))

    __index__ = __int__

    def __bool__(self):
        return self._convert("bool", (bool,))

    def fetch(self):
        """The object as plain data as far as it goes (lists item by item, other objects as handles)."""
        return self._ask("fetch")

    def read_file(self):
        """The bytes of the file at this (path-like) object, or MISSING."""
        return self._ask("read_file")

    # -- never forwarded: comparisons and hashing stay on this side ---------------------------------
    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other

    def __hash__(self):
        return hash((id(self._transport), self._id))

    def __repr__(self):
        kind = "class" if self.remote_is_class else "object"
        return f"<{self.remote_type.rsplit('.', 1)[-1]} {kind}>"

    def __reduce__(self):
        raise TypeError("a RemoteObject cannot be pickled")


def _write_back(original, after, depth: int = 0) -> None:
    """Copy the values in `after` into the mutable containers and arrays of `original`, in place."""
    import sys
    torch, np = sys.modules.get("torch"), sys.modules.get("numpy")
    if depth > 16:
        return
    if torch is not None and isinstance(original, torch.Tensor) and isinstance(after, torch.Tensor):
        if original.dtype == after.dtype and not torch.equal(original.detach().cpu(), after):
            with torch.no_grad():
                if original.shape == after.shape:
                    original.copy_(after)
                else:
                    original.data = after.to(original.device)
    elif np is not None and isinstance(original, np.ndarray) and isinstance(after, np.ndarray):
        if original.shape == after.shape and original.dtype == after.dtype and original.flags.writeable:
            original[...] = after
    elif isinstance(original, list) and isinstance(after, list):
        if len(original) == len(after):
            for o, a in zip(original, after):
                _write_back(o, a, depth + 1)
            for i, (o, a) in enumerate(zip(original, after)):
                if isinstance(o, RemoteObject) and not (isinstance(a, RemoteObject) and a._id == o._id):
                    original[i] = a         # the learner's code put another object in the list
                elif isinstance(o, _SCALARS) and isinstance(a, _SCALARS) and (type(o) is not type(a) or o != a):
                    original[i] = a
        else:
            original[:] = after
    elif isinstance(original, tuple) and isinstance(after, tuple) and len(original) == len(after):
        for o, a in zip(original, after):
            _write_back(o, a, depth + 1)
    elif isinstance(original, dict) and isinstance(after, dict):
        for k in list(original):
            if k not in after:
                del original[k]
        for k, a in after.items():
            if k in original and _mutable(original[k]):
                _write_back(original[k], a, depth + 1)
            else:
                original[k] = a


_SCALARS = (int, float, str, bool, type(None))


def _mutable(x) -> bool:
    return isinstance(x, (list, dict)) or type(x).__name__ in ("Tensor", "ndarray", "Parameter", "EagerTensor")


def remote_type(x) -> str:
    """The class name of `x`, also for a RemoteObject (its class on the learner's side)."""
    if isinstance(x, RemoteObject):
        return x.remote_type.rsplit(".", 1)[-1]
    return type(x).__name__


def is_a(x, *names: str) -> bool:
    """isinstance by class names ('Linear' or 'torch.nn.modules.linear.Linear'), for local objects and
    for RemoteObjects alike (theirs is the class on the learner's side)."""
    if isinstance(x, RemoteObject):
        return x.remote_isinstance(*names)
    mro = [f"{c.__module__}.{c.__qualname__}" for c in type(x).__mro__]
    return any(m == n or m.endswith("." + n) for m in mro for n in names)


class Transport:
    """Encodes requests, sends them, decodes replies; subclasses define `_send(text) -> text`."""

    def __init__(self):
        self._kept: list[int] = []
        self.watch: dict | None = None        # the running exercise's forbidden names, watched at run time
        self.limit: float | None = None       # seconds one request may run (time_limit), on top of the deadline

    def encode(self, value):
        def other(v):
            if isinstance(v, RemoteObject):
                if v._transport is not self:
                    raise codec.CodecError("an object from another session cannot be sent")
                return {"$": "ref", "id": v._id}
            if isinstance(v, Fixture):
                return {"$": "fixture", "name": v.name, "args": self.encode(list(v.args)),
                        "kwargs": self.encode(dict(v.kwargs))}
            raise codec.CodecError(f"a check cannot send a {type(v).__name__} to the learner's code; "
                                   f"send plain data or a named fixture")
        return codec.encode(value, other=other)

    def _handle(self, node):
        if type(node.get("id")) is not int:
            raise codec.CodecError("bad handle node")
        self._kept.append(node["id"])
        return RemoteObject(self, node)

    def _call_reply(self, node):
        return tuple(codec.decode(node.get(k), self._tags) for k in ("result", "args", "kwargs", "used"))

    @property
    def _tags(self):
        return {"handle": self._handle, "missing": lambda node: MISSING, "call": self._call_reply}

    def request(self, request: dict):
        reply = codec.loads(self._send(codec.dumps(request)))
        if not isinstance(reply, dict) or not (("ok" in reply) ^ ("error" in reply)):
            raise codec.CodecError("the reply is neither a value nor an error")
        if "error" in reply:
            raise _learner_error(reply["error"])
        return codec.decode(reply["ok"], self._tags)

    def lookup(self, name: str):
        """The learner's object called `name`, or MISSING."""
        return self.request({"op": "lookup", "name": name})

    def read_file(self, path):
        """The bytes of the file at `path` on the learner's side, or MISSING."""
        return self.request({"op": "read_file", "target": self.encode(str(path))})

    def listdir(self, path) -> list:
        return self.request({"op": "listdir", "target": self.encode(str(path))})

    def exists(self, path) -> bool:
        return self.request({"op": "exists", "target": self.encode(str(path))}) is True

    def make(self, fixture, *, keep: bool = True):
        """Build a fixture on the learner's side; a handle to it (kept there for later requests)."""
        return self.request({"op": "fixture", "name": fixture.name, "args": self.encode(list(fixture.args)),
                             "kwargs": self.encode(dict(fixture.kwargs)), "keep": keep})

    def close(self):
        if self._kept:
            try:
                self.request({"op": "forget", "ids": list(self._kept)})
            except Exception:
                pass
            self._kept = []

    def _send(self, text: str) -> str:
        raise NotImplementedError


class LocalTransport(Transport):
    """The driver in this process (the notebook's `check()`): the same requests and JSON as grading."""

    def __init__(self, namespace: dict):
        super().__init__()
        self.namespace = namespace

    def _send(self, text: str) -> str:
        from course.exercises import driver
        return driver.handle(self.namespace, text)


class KernelTransport(Transport):
    """The driver in the learner's kernel. `run(code)` executes code there and returns an Outcome
    (course.exercises.kernel); the reply comes back through a file in `folder` (the kernel's
    working folder), never through the kernel's stdout."""

    def __init__(self, run, folder: str | Path):
        super().__init__()
        self.run, self.folder = run, Path(folder)

    def _send(self, text: str) -> str:
        from course.exercises.sandbox import read_back
        path = self.folder / f".course-reply-{secrets.token_hex(8)}.json"
        code = (f"__import__('course.exercises.driver', fromlist=['serve']).serve(globals(), {text!r}, "
                f"{str(path)!r})")
        try:
            out = self.run(code) if self.limit is None else self.run(code, self.limit)
            if out.status in ("timeout", "hung"):
                raise CheckTimeout("the learner's code did not finish in time")
            if out.status == "crashed":
                raise KernelCrashed("the learner's kernel died")
            try:        # no symlink followed, no FIFO waited on: the learner's side wrote it
                data = read_back(path, codec.MAX_BYTES + 1)
            except OSError:
                why = f" ({out.error})" if out.error else ""
                raise NoReply(f"the learner's kernel wrote no reply{why}") from None
            return data.decode("utf-8", errors="replace")
        finally:
            for p in (path, path.with_name(path.name + ".part")):
                with contextlib.suppress(OSError):
                    p.unlink()


_current: list[Transport] = []


def current() -> Transport:
    """The transport of the check that is running (for fixtures made inside a check)."""
    if not _current:
        raise RuntimeError("no check is running: fixtures are made inside a check")
    return _current[-1]


@contextlib.contextmanager
def using(transport: Transport):
    _current.append(transport)
    try:
        yield transport
    finally:
        _current.pop()


@contextlib.contextmanager
def time_limit(seconds: float):
    """Requests made inside the block may each run `seconds` at most in the learner's kernel (the
    grader interrupts them there and the request raises CheckTimeout). `check()`'s in-process
    transport cannot stop the learner's code: a check measures the time itself as well."""
    transport = current()
    previous, transport.limit = transport.limit, float(seconds)
    try:
        yield transport
    finally:
        transport.limit = previous


def probe(name: str, *args, **kwargs):
    """Run probe `name` (course.exercises.probes) on the learner's side now; its report (plain data)."""
    return current().make(Fixture(name, *args, **kwargs), keep=False)
