"""Turning a Python function into its AutoGraph form: read its source, rewrite it, compile it.

    converted = convert(fn)           # fn itself when it cannot or must not be converted
    print(to_code(fn))                # the rewritten source (valid Python)

Only the function's own source is compiled, and only after checks that it *is* that function's
source: the parsed `def` must carry the function's name, first line and parameter names, and, compiled
as it is, give the same bytecode, names and constants as the function's `__code__` (a function whose
`__code__` was swapped, or whose file was edited since it was imported, is not converted: it runs as
Python imported it); no name in it may start with `ag__` (the converted code's own names). The rewrite works on the
syntax tree and compiles that tree, never text assembled from strings, so nothing in a string or
comment of the source can become code. Functions from the course package, TensorFlow, torch, numpy
and the standard library are called as they are; `@do_not_convert` marks others.
"""
import __future__
import ast
import copy
import functools
import inspect
import textwrap
import types

from course.framework import nest
from course.graph.autograph import operators
from course.graph.autograph.transformer import convert_function_def

__all__ = ["convert", "to_code", "do_not_convert", "ConversionError", "is_convertible"]

_SKIP_MODULES = ("course.", "torch", "numpy", "tensorflow", "keras", "builtins", "functools", "collections")
_cache = {}                  # code object -> (factory, source)


class ConversionError(Exception):
    """AutoGraph could not convert a function (TF's `tf.autograph` error of the same name)."""


def do_not_convert(func=None):
    """`@tf.autograph.experimental.do_not_convert`: run `func` as written, even inside tf.function."""
    if func is None:
        return do_not_convert

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)
    wrapper.__ag_do_not_convert__ = True
    return wrapper


def is_convertible(fn):
    target = getattr(fn, "__func__", fn)
    if not isinstance(target, types.FunctionType) or getattr(target, "__ag_do_not_convert__", False):
        return False
    if getattr(fn, "__ag_do_not_convert__", False):
        return False
    module = getattr(target, "__module__", "") or ""
    if module == "course" or module.startswith(_SKIP_MODULES):
        return False
    return not (target.__code__.co_flags & (inspect.CO_GENERATOR | inspect.CO_COROUTINE))


def _parse(fn):
    """The `def` of `fn`, checked to be fn's own (ConversionError otherwise)."""
    code = fn.__code__
    try:
        lines, first = inspect.findsource(fn)
    except (OSError, TypeError) as exc:
        raise ConversionError(f"Unable to locate the source code of {fn!r}. Functions defined in an interactive "
                              "shell or with exec() do not expose their source; define it in a .py file (or a "
                              "notebook cell), or mark it with @tf.autograph.experimental.do_not_convert. "
                              f"Original error: {exc}") from None
    if code.co_name == "<lambda>":
        return _parse_lambda(fn, lines)
    block = inspect.getblock(lines[first:])
    source = textwrap.dedent("".join(block))
    try:
        tree = ast.parse(source)
        ast.increment_lineno(tree, first)          # the file's own line numbers: tracebacks point at it
    except SyntaxError as exc:
        raise ConversionError(f"The source of {fn.__qualname__} could not be parsed: {exc}") from None
    fdef = tree.body[0] if tree.body else None
    if not isinstance(fdef, ast.FunctionDef) or fdef.name != code.co_name:
        raise ConversionError(f"The source found for {fn.__qualname__} is not its `def` (got "
                              f"{type(fdef).__name__}); it is left unconverted.")
    params = [a.arg for a in fdef.args.posonlyargs + fdef.args.args + fdef.args.kwonlyargs]
    if fdef.args.vararg:
        params.append(fdef.args.vararg.arg)
    if fdef.args.kwarg:
        params.append(fdef.args.kwarg.arg)
    want = list(code.co_varnames[:len(params)])
    if params != want or code.co_firstlineno != first + 1:
        raise ConversionError(f"The source of {fn.__qualname__} does not match its code (its file changed, or its "
                              "__code__ was replaced); it is left unconverted.")
    _refuse_reserved(fdef, fn)
    return fdef, _module_imports(_parse_file(lines, fn))


def _refuse_reserved(node, fn):
    for sub in ast.walk(node):
        name = sub.id if isinstance(sub, ast.Name) else sub.arg if isinstance(sub, ast.arg) else None
        if name is not None and name.startswith("ag__"):
            raise ConversionError(f"{fn.__qualname__} uses the name {name!r}; names starting with 'ag__' are "
                                  "reserved for AutoGraph's converted code. Rename it.")


def _parse_file(lines, fn):
    try:
        return ast.parse("".join(lines))
    except SyntaxError:
        raise ConversionError(f"The file of {fn.__qualname__} no longer parses (it changed since it was imported); "
                              "it is left unconverted.") from None


def _parse_lambda(fn, lines):
    """A lambda as `def ag__lambda(args): return body`: of the lambdas on its first line, the one whose
    compiled code is fn's own (several lambdas may share a line)."""
    code = fn.__code__
    tree = _parse_file(lines, fn)
    imports = _module_imports(tree)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Lambda) and node.lineno == code.co_firstlineno):
            continue
        fdef = ast.copy_location(ast.FunctionDef(
            name="ag__lambda", args=copy.deepcopy(node.args), body=[ast.copy_location(
                ast.Return(value=copy.deepcopy(node.body)), node.body)], decorator_list=[], returns=None,
            type_comment=None, type_params=[]), node)
        fdef = ast.fix_missing_locations(fdef)
        if _same_code(_inner_code(_compile_in_factory(fdef, code, imports), fdef.name), code):
            _refuse_reserved(node, fn)
            return fdef, imports
    raise ConversionError(f"The source of {fn.__qualname__} (a lambda) was not found on line {code.co_firstlineno} "
                          "of its file; it is left unconverted.")


def _module_imports(tree):
    """The names the file (or notebook cell) binds by `import` at module level: Python compiles
    `name.attr()` differently for them, so the check of the source against fn's code needs them."""
    found, todo = set(), list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.update(a.asname or a.name.split(".")[0] for a in node.names if a.name != "*")
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))
    return sorted(found)


_FUTURE_FLAGS = functools.reduce(lambda a, b: a | b, (getattr(__future__, f).compiler_flag
                                                      for f in __future__.all_feature_names))


def _compile_in_factory(fdef, code, imports=()):
    """Compile `def ag__factory(ag__, *free variables): <fdef>; return <its name>` (a syntax tree),
    after `import name` for each of `imports` (the original's module-level imports; never executed)."""
    outer = ast.FunctionDef(
        name="ag__factory", args=ast.arguments(posonlyargs=[], args=[ast.arg(arg=n) for n in
                                                                      ["ag__"] + list(code.co_freevars)],
                                               vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
        body=[fdef, ast.Return(value=ast.Name(id=fdef.name, ctx=ast.Load()))], decorator_list=[], returns=None,
        type_params=[])
    head = [ast.Import(names=[ast.alias(name=n)]) for n in imports]
    module = ast.fix_missing_locations(ast.Module(body=head + [outer], type_ignores=[]))
    return compile(module, code.co_filename, "exec", flags=code.co_flags & _FUTURE_FLAGS, dont_inherit=True)


def _inner_code(module_code, name):
    factory = next(c for c in module_code.co_consts if isinstance(c, types.CodeType) and c.co_name == "ag__factory")
    return next(c for c in factory.co_consts if isinstance(c, types.CodeType) and c.co_name == name)


def _same_code(a, b):
    """True when two code objects do the same thing: bytecode, names and constants (nested code too);
    line numbers and positions may differ."""
    if (a.co_code, a.co_names, a.co_varnames, a.co_freevars, a.co_cellvars, a.co_flags | inspect.CO_NESTED) != \
            (b.co_code, b.co_names, b.co_varnames, b.co_freevars, b.co_cellvars, b.co_flags | inspect.CO_NESTED):
        return False
    if len(a.co_consts) != len(b.co_consts):
        return False
    for x, y in zip(a.co_consts, b.co_consts):
        if isinstance(x, types.CodeType) or isinstance(y, types.CodeType):
            if not (isinstance(x, types.CodeType) and isinstance(y, types.CodeType) and _same_code(x, y)):
                return False
        elif type(x) is not type(y) or x != y and not (x != x and y != y):      # NaN equals NaN here
            return False
    return True


def _factory(fn):
    """(factory(ag__, *free variables) -> converted function, converted source), cached per code object.
    The unconverted `def` is compiled first and must give fn's own code: a source that is not what
    Python runs for fn (its file was edited since, or its code was swapped) is never converted."""
    code = fn.__code__
    hit = _cache.get(code)
    if hit is not None:
        return hit
    fdef, imports = _parse(fn)
    if not _same_code(_inner_code(_compile_in_factory(fdef, code, imports), fdef.name), code):
        raise ConversionError(f"The source of {fn.__qualname__} does not match its code (its file changed, or its "
                              "__code__ was replaced); it is left unconverted.")
    fdef = convert_function_def(fdef)
    namespace = {}
    exec(_compile_in_factory(fdef, code), fn.__globals__, namespace)     # a syntax tree, never a string
    hit = _cache[code] = (namespace["ag__factory"], ast.unparse(fdef))
    return hit


def convert(fn):
    """The converted form of `fn` (a function or bound method), or `fn` when it is not convertible."""
    if not is_convertible(fn):
        return fn
    target = getattr(fn, "__func__", fn)
    try:
        factory, _ = _factory(target)
    except ConversionError:
        return fn
    cells = [c.cell_contents for c in (target.__closure__ or ())]
    inner = factory(_AG, *cells)

    def new(*args, **kwargs):
        out = inner(*args, **kwargs)
        for leaf in nest.flatten(out):
            if isinstance(leaf, operators.Undefined):     # returned a variable set on one path only
                leaf._fail()
        return out
    inner.__defaults__, inner.__kwdefaults__ = target.__defaults__, target.__kwdefaults__
    functools.update_wrapper(new, target)
    new.__wrapped__ = target
    if inspect.ismethod(fn):
        return types.MethodType(new, fn.__self__)
    return new


def converted_call(f):
    """What converted code calls instead of `f`: its converted form for a user function, else `f`."""
    return convert(f) if is_convertible(f) else f


_AG = types.SimpleNamespace(converted_call=converted_call,
                            **{name: getattr(operators, name) for name in operators.__all__})


def to_code(entity, recursive=True, experimental_optional_features=None):
    """`tf.autograph.to_code(fn)`: the source AutoGraph runs for `fn`, as a string."""
    target = getattr(entity, "python_function", entity)
    target = getattr(target, "__func__", target)
    if not isinstance(target, types.FunctionType):
        raise ConversionError(f"to_code expects a Python function (or a tf.function); got {type(entity).__name__}.")
    return _factory(target)[1] + "\n"
