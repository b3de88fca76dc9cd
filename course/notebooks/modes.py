"""Which `# NBVAL_CHECK_OUTPUT` cells could print differently in fast and full mode (a static check).

CI runs the lessons in fast mode and nbval compares each `# NBVAL_CHECK_OUTPUT` cell with the
stored output, which may come from a full-mode run (`course lessons execute --full`). Such a cell
must therefore print the same in both modes. Running every lesson twice would cost the full-mode
time (minutes of training per lesson) on every test run, so this module checks it from the code:

- *mode-dependent* are `fast_mode()` (any call of a name or attribute ``fast_mode``), the text
  ``COURSE_FAST``, and every name whose value is computed from something mode-dependent: assigned
  from it (``EPOCHS = 1 if FAST else 5``, ``history = model.fit(x[:N_TRAIN])``), assigned under a
  condition on it, a loop or ``with`` target over it, an object mutated by a call that receives it
  (``model.fit(x[:N])`` makes ``model`` mode-dependent, as does ``train(model)`` when ``train`` is, or
  ``train(model, EPOCHS)``; builtins such as ``print`` and the grader's ``check`` change nothing),
  a function or class whose body reads a mode-dependent global when it is called. Names bound by
  ``import`` are not made mode-dependent by calls (``torch.randn(N)`` leaves ``torch`` clean);
- the cells are followed in order, statement by statement (a name assigned again from clean values
  is clean again; the branches of an ``if`` are merged, a loop body runs twice), and a statement of
  a check-output cell that reads a mode-dependent name, calls ``fast_mode`` or mentions
  ``COURSE_FAST`` is reported, unless the cell carries a comment ``# same in both modes: <why>``
  (say why the printed text cannot differ, e.g. it prints only a comparison that holds in both).

What it cannot see: state shared without a name, such as a global random generator that fast mode
advanced by a different amount before a check cell draws from it (seed right before drawing), or
files written in one mode and read in another.
"""
from __future__ import annotations

import ast
import builtins
import re

__all__ = ["CHECK_OUTPUT", "WAIVER", "SOURCES", "mode_dependent_checks"]

CHECK_OUTPUT = re.compile(r"^\s*#\s*NBVAL_CHECK_OUTPUT\s*$", re.MULTILINE)
# A check-output cell that reads mode-dependent values but prints what holds in both modes says why:
WAIVER = re.compile(r"#\s*same in both modes:\s*\S", re.IGNORECASE)
SOURCES = ("fast_mode",)
_ENV = "COURSE_FAST"
_BUILTINS = frozenset(dir(builtins)) | {"display", "check"}   # calls that change none of their arguments
_MAGIC = re.compile(r"^\s*[%!].*$", re.MULTILINE)


def _parse(code: str) -> ast.Module | None:
    try:
        return ast.parse(_MAGIC.sub("pass", code))
    except SyntaxError:
        return None


def _is_source(node) -> bool:
    """True if `node` calls fast_mode or mentions COURSE_FAST (nested function bodies included)."""
    for n in ast.walk(node):
        if isinstance(n, ast.Call):
            f = n.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            if name in SOURCES:
                return True
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and _ENV in n.value:
            return True
    return False


def _bound_inside(node) -> set[str]:
    """Names bound by lambdas and comprehensions within `node` (their loads are local)."""
    names = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Lambda):
            a = n.args
            names |= {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg] if x}
        elif isinstance(n, ast.comprehension):
            names |= _bound(n.target)
    return names


def _loads(node) -> set[str]:
    loads = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return loads - _bound_inside(node)


def _bound(target) -> set[str]:
    """The names an assignment target binds or mutates (the base name of x.a / x[i])."""
    while isinstance(target, (ast.Attribute, ast.Subscript, ast.Starred)):
        target = target.value
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(_bound(t) for t in target.elts)) if target.elts else set()
    return set()


def _stored(stmts) -> set[str]:
    """Every name the statements assign at their own level (not inside functions they define)."""
    names = set()
    for stmt in stmts:
        for n in _walk_here(stmt):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                names.add(n.id)
            elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(n.name)
    return names


def _walk_here(node):
    """ast.walk that does not descend into function, class or lambda bodies."""
    todo = [node]
    while todo:
        n = todo.pop()
        yield n
        if n is not node and isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        todo.extend(ast.iter_child_nodes(n))


class _State:
    """Which names are mode-dependent at a point of the notebook."""

    def __init__(self):
        self.dirty: set[str] = set()
        self.funcs: dict[str, set[str]] = {}      # function/class -> the globals its body reads
        self.modules: set[str] = set()
        self.watch: list[str] | None = None       # when a list: collects what the statements read

    def _see(self, node) -> None:
        if self.watch is None or node is None:
            return
        found = (["fast_mode()/COURSE_FAST"] if _is_source(node) else []) + sorted(
            n for n in _loads(node) if self.is_dirty(n))
        self.watch += [w for w in found if w not in self.watch]

    def copy(self):
        new = _State()
        new.dirty, new.funcs, new.modules = set(self.dirty), dict(self.funcs), set(self.modules)
        new.watch = self.watch
        return new

    def is_dirty(self, name: str, seen=None) -> bool:
        if name in self.dirty:
            return True
        seen = seen or set()
        if name in self.funcs and name not in seen:
            seen.add(name)
            return any(self.is_dirty(free, seen) for free in self.funcs[name])
        return False

    def expr(self, node) -> bool:
        return node is not None and (_is_source(node) or any(self.is_dirty(n) for n in _loads(node)))

    def assign(self, target, dirty: bool) -> None:
        if isinstance(target, ast.Name):
            self.funcs.pop(target.id, None)
            (self.dirty.add if dirty else self.dirty.discard)(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for t in target.elts:
                self.assign(t, dirty)
        elif dirty:                                # x.a = ..., x[i] = ...: x is changed, not replaced
            self.dirty |= _bound(target)

    def calls(self, stmt) -> None:
        """Objects changed by calls in `stmt` that receive mode-dependent values."""
        for n in _walk_here(stmt):
            if not isinstance(n, ast.Call):
                continue
            args = [*n.args, *(k.value for k in n.keywords)]
            f, changed = n.func, set()
            user_function = isinstance(f, ast.Name) and f.id not in _BUILTINS and f.id not in self.modules
            if any(self.expr(a) for a in args):
                if isinstance(f, ast.Attribute):              # obj.method(dirty): obj changes
                    changed = _bound(f.value)
                elif user_function:                           # train(model, EPOCHS): model changes
                    changed = set().union(*(_bound(a) for a in args))
            elif user_function and self.is_dirty(f.id) and args:
                changed = set().union(*(_bound(a) for a in args))
            self.dirty |= changed - self.modules

    def run(self, stmts) -> None:
        for stmt in stmts:
            self.step(stmt)

    def step(self, stmt) -> None:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for a in stmt.names:
                name = (a.asname or a.name).split(".")[0]
                self.modules.add(name)
                self.dirty.discard(name)
                self.funcs.pop(name, None)
            return
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.dirty.discard(stmt.name)
            if _is_source(stmt):
                self.dirty.add(stmt.name)
            else:
                local = _stored(stmt.body)
                if not isinstance(stmt, ast.ClassDef):
                    local |= _bound_inside(ast.Lambda(args=stmt.args, body=ast.Constant(None)))
                self.funcs[stmt.name] = set().union(*(_loads(s) for s in stmt.body)) - local - {stmt.name}
            return
        if isinstance(stmt, (ast.For, ast.AsyncFor)):
            self._see(stmt.iter)
        elif isinstance(stmt, (ast.While, ast.If)):
            self._see(stmt.test)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                self._see(item.context_expr)
        elif not isinstance(stmt, ast.Try):
            self._see(stmt)
        self.calls(stmt)
        if isinstance(stmt, ast.Assign):
            dirty = self.expr(stmt.value)
            for t in stmt.targets:
                self.assign(t, dirty)
        elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
            dirty = self.expr(stmt.value) or (isinstance(stmt, ast.AugAssign) and self.expr(stmt.target))
            if stmt.value is not None:
                self.assign(stmt.target, dirty)
        elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            condition = self.expr(stmt.iter if isinstance(stmt, (ast.For, ast.AsyncFor)) else stmt.test)
            if isinstance(stmt, (ast.For, ast.AsyncFor)):
                self.assign(stmt.target, condition)
            self.run(stmt.body)
            self.run(stmt.body)
            self.run(stmt.orelse)
            if condition:
                self.dirty |= _stored(stmt.body + stmt.orelse)
        elif isinstance(stmt, ast.If):
            other = self.copy()
            self.run(stmt.body)
            other.run(stmt.orelse)
            self.dirty |= other.dirty
            self.funcs.update({k: v for k, v in other.funcs.items() if k not in self.funcs})
            if self.expr(stmt.test):
                self.dirty |= _stored(stmt.body + stmt.orelse)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                if item.optional_vars is not None:
                    self.assign(item.optional_vars, self.expr(item.context_expr))
            self.run(stmt.body)
        elif isinstance(stmt, ast.Try):
            self.run(stmt.body)
            for handler in stmt.handlers:
                self.run(handler.body)
            self.run(stmt.orelse)
            self.run(stmt.finalbody)
        elif isinstance(stmt, ast.Delete):
            for t in stmt.targets:
                self.assign(t, False) if isinstance(t, ast.Name) else None


def mode_dependent_checks(nb) -> list[tuple[int, list[str]]]:
    """(cell index, what it reads) for each `# NBVAL_CHECK_OUTPUT` cell of `nb` that may print differently
    in fast and full mode; an empty list when every check-output cell is independent of the mode."""
    state, found = _State(), []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        text = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        tree = _parse(text)
        check = bool(CHECK_OUTPUT.search(text))
        if tree is None:
            if check:
                found.append((index, ["cannot be parsed, so cannot be checked"]))
            continue
        state.watch = [] if check and not WAIVER.search(text) else None
        state.run(tree.body)
        if state.watch:
            found.append((index, state.watch))
        state.watch = None
    return found
