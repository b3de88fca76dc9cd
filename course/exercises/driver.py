"""The learner's side of checking: answer the checks' requests with plain data.

The checks run elsewhere (the grader's process, or `check()`'s own frame) and only ask: look up
the name `softmax`, call it on these arrays, read this attribute, build the named fixture, read
this file. `handle(namespace, request)` does one such step in the learner's process and returns
the reply as plain data (`course.exercises.codec`); objects that are not plain data stay here and
the reply names them by a handle number. `serve` is what the grader executes in the learner's
kernel: it writes the reply to a file, not to `sys.stdout`, so a replaced `print` or `stdout`
changes nothing. Nothing here decides a verdict: whatever this module replies is judged by checks
that run where the learner's code cannot reach them.
"""
from __future__ import annotations

import os
import sysconfig
import traceback
from pathlib import Path

from course.exercises import codec

__all__ = ["handle", "serve", "forget"]

# Saved when the module is first imported (the grader imports it before the learner's cells run),
# so that a careless override of open/print later does not cut the reply channel.
_os_open, _os_write, _os_close, _os_replace = os.open, os.write, os.close, os.replace
_MAX_ITER = 100_000
_MAX_FILE = 32 * 2**20
_handles: dict[int, object] = {}
_next = [1]
_PACKAGE = str(Path(__file__).resolve().parent.parent)
_LIBRARY = tuple({sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib")})


def _keep(obj) -> dict:
    number = _next[0]
    _next[0] += 1
    _handles[number] = obj
    return {"$": "handle", "id": number, **_describe(obj)}


def _encode(value, keep: bool = False):
    if keep:
        return _keep(value)
    return codec.encode(value, other=_keep, same=_passed)


_passed: dict[int, dict] = {}        # id(obj) -> its handle node, for the objects of one request


def _ref(node):
    number = node.get("id")
    if number not in _handles:
        raise LookupError(f"handle {number!r} is not (or no longer) known in this kernel")
    obj = _handles[number]
    _passed[id(obj)] = {"$": "handle", "id": number, **{k: v for k, v in _describe(obj).items()}}
    return obj


def _describe(obj) -> dict:
    cls = obj if isinstance(obj, type) else type(obj)
    try:
        mro = [f"{c.__module__}.{c.__qualname__}" for c in cls.__mro__]
    except Exception:
        mro = []
    return {"type": mro[0] if mro else "?", "mro": mro, "is_class": isinstance(obj, type), "callable": callable(obj)}


def _fixture(node):
    from course.exercises import fixtures, probes  # noqa: F401  (probes: registers the probe fixtures)
    args = codec.decode(node.get("args", []), _TAGS)
    kwargs = codec.decode(node.get("kwargs", {"$": "dict", "k": [], "v": []}), _TAGS)
    return fixtures.build(node.get("name"), *args, **kwargs)


_TAGS = {"ref": _ref, "fixture": _fixture}


def _learner_trace(tb, limit: int = 4) -> str:
    lines = []
    for entry in traceback.extract_tb(tb):
        name = entry.filename
        if name.startswith(_PACKAGE) or name.startswith(_LIBRARY) or name.startswith("<frozen"):
            continue
        label = name
        try:
            from IPython import get_ipython
            shell = get_ipython()
            if shell is not None:
                label = " ".join(shell.compile.format_code_name(name) or ("File", name))
        except Exception:
            pass
        lines.append(f"  {label}, line {entry.lineno}, in {entry.name}")
        if entry.line:
            lines.append(f"    {entry.line.strip()}")
    return "\n".join(lines[-2 * limit:])


def _error(exc: BaseException) -> dict:
    try:
        message = str(exc)
    except Exception:
        message = "(the exception's message could not be read)"
    return {"$": "error", "type": type(exc).__name__, "message": message[:2000],
            "trace": _learner_trace(exc.__traceback__)}


def _do(namespace: dict, request: dict):
    op = request.get("op")
    decode = lambda key, default=None: codec.decode(request.get(key, default), _TAGS)   # noqa: E731
    if op == "lookup":
        name = request.get("name")
        if not isinstance(name, str) or name not in namespace:
            return {"$": "missing"}
        return _encode(namespace[name])
    if op == "fixture":
        return _encode(_fixture(request), keep=bool(request.get("keep", True)))
    if op == "forget":
        for number in request.get("ids", []):
            _handles.pop(number, None)
        return None
    target = decode("target")
    if op == "call":
        args = decode("args", [])
        kwargs = decode("kwargs", {"$": "dict", "k": [], "v": []})
        watch = request.get("watch")
        if isinstance(watch, dict):
            from course.exercises.tripwire import watching
            with watching([str(n) for n in watch.get("names", [])], [str(m) for m in watch.get("methods", [])]) as used:
                result = target(*args, **kwargs)
        else:
            result, used = target(*args, **kwargs), []
        if request.get("keep"):
            return _encode(result, keep=True)
        reply = _encode(result)
        if request.get("args_after"):
            # What the arguments hold now: the checks' side sees in-place changes as Python would.
            return {"$": "call", "result": reply, "args": _encode(list(args)), "kwargs": _encode(kwargs),
                    "used": list(used)}
        return reply
    if op == "getattr":
        return _encode(getattr(target, str(request.get("name"))))
    if op == "setattr":
        setattr(target, str(request.get("name")), decode("value"))
        return None
    if op == "getitem":
        return _encode(target[decode("key")])
    if op == "len":
        return int(len(target))
    if op == "iter":
        items = []
        for item in target:
            items.append(item)
            if len(items) > _MAX_ITER:
                raise OverflowError(f"more than {_MAX_ITER} items")
        return _encode(items)
    if op == "fetch":
        return _encode(target)
    if op == "convert":
        kind = request.get("to")
        value = {"float": float, "int": int, "bool": bool, "str": str, "repr": repr}[kind](target)
        return value[:2000] if isinstance(value, str) else value
    if op == "read_file":
        path = Path(os.fspath(target))
        if not path.is_file():
            return {"$": "missing"}
        if path.stat().st_size > _MAX_FILE:
            raise OverflowError(f"{path} is larger than {_MAX_FILE} bytes")
        return {"$": "bytes", "data": codec._b64(path.read_bytes())}
    if op == "exists":
        return os.path.exists(os.fspath(target))
    if op == "listdir":
        return sorted(os.listdir(os.fspath(target)))
    raise ValueError(f"unknown request {op!r}")


def handle(namespace: dict, request_text: str) -> str:
    """One request (JSON text) -> the reply (JSON text): {"ok": value} or {"error": ...}."""
    _passed.clear()
    try:
        request = codec.loads(request_text)
        reply = {"ok": _do(namespace, request)}
    except KeyboardInterrupt:
        raise
    except BaseException as exc:            # the learner's SystemExit is a reply too
        reply = {"error": _error(exc)}
    try:
        return codec.dumps(reply)
    except Exception as exc:
        return codec.dumps({"error": _error(exc)})


def serve(namespace: dict, request_text: str, reply_path: str) -> None:
    """Answer one request and write the reply to `reply_path` (atomically)."""
    data = handle(namespace, request_text).encode("utf-8")
    tmp = reply_path + ".part"
    fd = _os_open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[_os_write(fd, view):]
    finally:
        _os_close(fd)
    _os_replace(tmp, reply_path)


def forget() -> None:
    """Drop every handle (the in-process driver does this after each check)."""
    _handles.clear()

