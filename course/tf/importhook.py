"""Run unmodified TensorFlow programs on course.tf: `import tensorflow` resolves to the facade.

    course run train.py [args...]          # tensorflow -> course.tf
    course run --v1 graph.py [args...]     # tensorflow -> course.tf.compat.v1 (TF1 graph mode)

and, in a notebook, `course.tf.install_import_hook()` (undo with `uninstall_import_hook()`).

A finder on `sys.meta_path` answers for `tensorflow` and every `tensorflow.<sub>` (and for `keras`
when asked) by handing out the facade's module objects themselves: `sys.modules['tensorflow'] is
course.tf`, so `from tensorflow.keras.layers import Dense` gets `course.tf.keras.layers.Dense`.
No source text is rewritten. With --v1, `tensorflow.<sub>` is looked up in course.tf.compat.v1
first and in course.tf after. A real `tensorflow` imported earlier is set aside while the hook is
installed and restored when it is removed.
"""
import importlib
import importlib.abc
import importlib.machinery
import os
import runpy
import sys

__all__ = ["install", "uninstall", "installed", "run_program", "add_parser"]

_ROOTS = ("tensorflow",)


def _target_names(fullname, v1):
    """Facade modules that may stand for `fullname` (e.g. tensorflow.keras.layers), best first."""
    root, _, rest = fullname.partition(".")
    if root == "keras":
        return ["course.tf.keras" + ("." + rest if rest else "")]
    if rest.startswith("compat.v1") or rest == "compat":
        return ["course.tf." + rest]
    if v1:
        return ["course.tf.compat.v1" + ("." + rest if rest else ""), "course.tf." + rest] if rest \
            else ["course.tf.compat.v1"]
    return ["course.tf" + ("." + rest if rest else "")]


def _resolve(name):
    """The module (or module-like object) `name` names, or None."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if not exc.name or not (name == exc.name or name.startswith(exc.name + ".")):
            raise                        # the facade module exists but an import inside it failed
    parent, _, attr = name.rpartition(".")
    if not parent:
        return None
    owner = _resolve(parent)
    try:
        return getattr(owner, attr, None) if owner is not None else None
    except NotImplementedError:          # the facade's UnsupportedError
        return None


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, module):
        self.module = module

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        pass


class TensorFlowAliasFinder(importlib.abc.MetaPathFinder):
    """Meta-path finder mapping `tensorflow[.x.y]` (and optionally `keras[.x]`) onto course.tf."""

    def __init__(self, v1=False, keras=True):
        self.v1 = bool(v1)
        self.roots = _ROOTS + (("keras",) if keras else ())

    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] not in self.roots:
            return None
        for name in _target_names(fullname, self.v1):
            module = _resolve(name)
            if module is not None:
                spec = importlib.machinery.ModuleSpec(fullname, _AliasLoader(module),
                                                      is_package=hasattr(module, "__path__"))
                return spec
        tried = " or ".join(_target_names(fullname, self.v1))
        advice = "TF1 programs need `course run --v1`." if not self.v1 else "See dir(tf) for what is supported."
        raise ModuleNotFoundError(f"No module named {fullname!r} in course.tf (TensorFlow on PyTorch): {tried} "
                                  f"does not exist. {advice}", name=fullname)


_state = {"finder": None, "saved": {}}


def installed():
    """The installed finder, or None."""
    return _state["finder"]


def _ours(name, roots):
    return name.partition(".")[0] in roots


def install(v1=False, keras=True):
    """Make `import tensorflow` (and `import keras` when `keras`) give course.tf; returns the finder."""
    uninstall()
    finder = TensorFlowAliasFinder(v1=v1, keras=keras)
    saved = {name: mod for name, mod in sys.modules.items() if _ours(name, finder.roots)}
    for name in saved:
        del sys.modules[name]
    _state["finder"], _state["saved"] = finder, saved
    sys.meta_path.insert(0, finder)
    return finder


def uninstall():
    """Remove the hook; `tensorflow` imports find the real package again (if it is installed)."""
    finder = _state["finder"]
    if finder is None:
        return False
    if finder in sys.meta_path:
        sys.meta_path.remove(finder)
    for name in [n for n in sys.modules if _ours(n, finder.roots)]:
        del sys.modules[name]
    sys.modules.update(_state["saved"])
    _state["finder"], _state["saved"] = None, {}
    return True


def run_program(path, argv=(), *, v1=False, keras=True):
    """Run the Python file `path` as `__main__` with `sys.argv = [path, *argv]` and the hook installed."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"course run: no such program {path!r}.")
    old_argv, old_path0 = sys.argv[:], sys.path[0] if sys.path else None
    sys.argv = [path, *argv]
    program_dir = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, program_dir)
    install(v1=v1, keras=keras)
    try:
        runpy.run_path(path, run_name="__main__")
    finally:
        uninstall()
        sys.argv = old_argv
        if sys.path and sys.path[0] == program_dir:
            del sys.path[0]
        elif old_path0 is not None and program_dir in sys.path:
            sys.path.remove(program_dir)


def _cmd_run(args) -> int:
    rest = list(args.args)
    v1 = args.v1
    if rest and rest[0] == "--v1":               # `course run prog.py --v1 ...`
        v1, rest = True, rest[1:]
    if not os.path.isfile(args.program):
        print(f"course run: no such program {args.program!r} (expected a Python file; run from its folder or "
              f"give its path).", file=sys.stderr)
        return 2
    try:
        run_program(args.program, rest, v1=v1, keras=not args.no_keras)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except Exception as exc:                                    # the program's own error, told briefly
        print(_program_error(exc, args.program, v1), file=sys.stderr)
        return 1
    return 0


def _is_tf1_name(exc) -> bool:
    from course.tf._unsupported import UnsupportedError
    if not isinstance(exc, UnsupportedError) or not getattr(exc, "name", None):
        return False
    import course.tf.compat.v1 as v1
    try:
        return getattr(v1, exc.name, None) is not None
    except NotImplementedError:
        return False


def _program_error(exc, program, v1) -> str:
    """A TF1 name under TF2: the hint alone. Anything else: the traceback through the program's own
    frames only (the CLI, this hook, runpy and course's internals are left out)."""
    import traceback
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))          # .../course
    tb = traceback.TracebackException.from_exception(exc)
    frames = [f for f in tb.stack if not f.filename.startswith(here) and not f.filename.startswith("<frozen")]
    if not v1 and _is_tf1_name(exc):
        where = f"{frames[-1].filename}, line {frames[-1].lineno}" if frames else program
        return (f"course run: {where} uses tf.{exc.name}, a TensorFlow 1 name: this looks like a TF1 program.\n"
                f"Run it in graph mode with:  course run --v1 {program}")
    tb.stack = traceback.StackSummary.from_list(frames)
    return "".join(tb.format()).rstrip()


def add_parser(subparsers):
    """Register `course run PROGRAM.py [--v1] [args...]`."""
    p = subparsers.add_parser(
        "run", help="run an unmodified TensorFlow program on course.tf",
        description="Run a TensorFlow program with `import tensorflow` resolving to course.tf (TF2: eager + "
                    "Keras) or, with --v1, to course.tf.compat.v1 (TF1 graphs and sessions). Arguments after "
                    "PROGRAM are passed to it; --v1 may come before PROGRAM or right after it.")
    p.add_argument("--v1", action="store_true", help="resolve `tensorflow` to course.tf.compat.v1 (TF1 graph mode)")
    p.add_argument("--no-keras", action="store_true", help="leave `import keras` alone (default: course.tf.keras)")
    p.add_argument("program", help="the TensorFlow program (a .py file)")
    p.add_argument("args", nargs="...", help="arguments for the program")
    p.set_defaults(func=_cmd_run)
    return p
