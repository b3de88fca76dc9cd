"""What an exercise's code must not use, found on the learner's source (AST), not by running it.

An exercise declares `Forbid(names=..., methods=..., why=...)`: dotted names (a name forbids
everything under it: "course.tf.compat.v1.train" covers its optimizers; "course.*.softmax" is a
pattern covering every facade path to a softmax) and tensor methods ("softmax" forbids
`x.softmax(...)`). The source is parsed, never run; names are resolved through the
cell's imports and simple assignments, so these are all found:

    torch.softmax(z, -1)                    import torch.nn.functional as F; F.softmax(z, -1)
    from torch import softmax as s; s(z)    sm = torch.softmax; sm(z)
    z.softmax(-1)                           getattr(torch, "softmax")(z)

Out of reach of the source check: names built at run time (`getattr(torch, "soft" + "max")`),
`eval`/`exec` of strings, and code imported from other files. The grader also watches the forbidden
functions while the learner's function runs (course.exercises.tripwire), which catches the first of
these; it does not see a forbidden call made by code that replaced the learner-side driver itself
(such code must still produce right answers on inputs drawn fresh for each run).

`refused_imports(source)` lists imports of `course.exercises` other than `from course.exercises import
check` (the one the lessons use): the grader does not run such a cell.
"""
from __future__ import annotations

import ast
import fnmatch
import textwrap
from dataclasses import dataclass

from course.exercises.language import Text, say

__all__ = ["Forbid", "SCRATCH", "violations", "refused_imports", "relevant_sources", "parse"]

# A program that says `import tensorflow as tf` runs on the facade (course run); same names.
_CANONICAL = (("tensorflow.compat.v1", "course.tf.compat.v1"), ("tensorflow", "course.tf"))


@dataclass(frozen=True)
class Forbid:
    """Names and methods an exercise's code must not use, and the reason shown to the learner."""
    names: tuple = ()
    methods: tuple = ()
    why: Text | str = ""              # say(en, zh): shown in the learner's language

    def __add__(self, other: "Forbid") -> "Forbid":
        why = Text.join([w for w in (self.why, other.why) if w], " ", "")
        return Forbid(tuple(dict.fromkeys(self.names + other.names)),
                      tuple(dict.fromkeys(self.methods + other.methods)), why)


# The course's own from-scratch layers and losses are the answer key of the exercises that ask for them.
SCRATCH = Forbid(names=("course.scratch.*",),
                 why=say("The course's own from-scratch version (course.scratch) is this exercise's answer key, so "
                         "it is not allowed here: write it yourself.",
                         "课程自带的从零实现（course.scratch）正是这道练习的参考答案，所以这里不能使用它：请自己实现。"))


def _canonical(dotted: str) -> str:
    for prefix, target in _CANONICAL:
        if dotted == prefix or dotted.startswith(prefix + "."):
            return target + dotted[len(prefix):]
    return dotted


def parse(source: str):
    """The AST of one cell (IPython magics and shell escapes turned into Python first); None if unparsable."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        source = TransformerManager().transform_cell(source)
    except Exception:
        pass
    source = textwrap.dedent(source)
    # A lambda's source (inspect.getsource) is a fragment of a line: try it as an expression too.
    for text in (source, "(" + source.strip().rstrip(",") + ")", "(" + source.strip().rstrip(",)") + ")"):
        try:
            return ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return None


class _Names(ast.NodeVisitor):
    """Resolves names to dotted paths through imports and `a = b.c` assignments (flow-insensitive)."""

    def __init__(self):
        self.alias: dict[str, str] = {}
        self.star: list[str] = []

    def visit_Import(self, node):
        for a in node.names:
            if a.asname:
                self.alias[a.asname] = _canonical(a.name)
            else:
                top = a.name.split(".")[0]
                self.alias[top] = _canonical(top) if top != "tensorflow" else "course.tf"

    def visit_ImportFrom(self, node):
        if node.level or not node.module:
            return
        module = _canonical(node.module)
        for a in node.names:
            if a.name == "*":
                self.star.append(module)
            else:
                self.alias[a.asname or a.name] = _canonical(f"{module}.{a.name}")

    def collect_assignments(self, tree):
        # Repeat so that chains (F = torch.nn.functional; s = F.softmax) resolve.
        for _ in range(3):
            for node in ast.walk(tree):
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    dotted = self.resolve(node.value)
                    if dotted:
                        self.alias[node.targets[0].id] = dotted

    def resolve(self, node) -> str | None:
        if isinstance(node, ast.Name):
            return self.alias.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            return f"{base}.{node.attr}" if base else None
        if _literal_getattr(node):
            base = self.resolve(node.args[0])
            return f"{base}.{node.args[1].value}" if base else None
        return None


def _literal_getattr(node) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
            and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str))


def _matches(dotted: str, names) -> str | None:
    """The rule `dotted` falls under: a name, anything under it, or a pattern with * (any characters)."""
    for name in names:
        if "*" in name:
            if fnmatch.fnmatchcase(dotted, name):
                return dotted
        elif dotted == name or dotted.startswith(name + "."):
            return name
    return None


def _line(source: str, lineno: int) -> str:
    lines = source.splitlines()
    text = lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ""
    return text if len(text) <= 70 else text[:67] + "..."


def _aliases(sources) -> _Names:
    names = _Names()
    for source in sources:
        tree = parse(source)
        if tree is not None:
            names.visit(tree)
            names.collect_assignments(tree)
    return names


def _at(line: int, code: str, imported: bool = False) -> Text:
    if imported:
        return say(f" (imported on line {line}: `{code}`)", f"（在第 {line} 行导入：`{code}`）")
    return say(f" (line {line}: `{code}`)", f"（第 {line} 行：`{code}`）")


def violations(sources, rule: Forbid, context=()) -> list[Text]:
    """One sentence per forbidden use found in `sources` (cell texts), in order, without repeats.

    Imports and aliases are read from `context` (every code cell of the notebook) and `sources`.
    """
    names = _aliases(list(context) + list(sources))
    found: list[str] = []
    for source in sources:
        tree = parse(source)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                module = _canonical(node.module)
                for a in node.names:
                    hit = ([n for n in rule.names if n.startswith(module + ".")][:1] if a.name == "*"
                           else [_matches(_canonical(f"{module}.{a.name}"), rule.names)])
                    if hit and hit[0]:
                        found.append(hit[0] + _at(node.lineno, _line(source, node.lineno), imported=True))
                continue
            if isinstance(node, ast.Import):
                for a in node.names:
                    hit = _matches(_canonical(a.name), rule.names)
                    if hit:
                        found.append(hit + _at(node.lineno, _line(source, node.lineno), imported=True))
                continue
            if not (isinstance(node, (ast.Attribute, ast.Name)) or _literal_getattr(node)):
                continue
            dotted = names.resolve(node)
            hit = _matches(dotted, rule.names) if dotted else None
            method = None
            if dotted is None and isinstance(node, ast.Attribute):
                method = node.attr
            elif dotted is None and _literal_getattr(node):
                method = node.args[1].value
            if hit:
                found.append(hit + _at(node.lineno, _line(source, node.lineno)))
            elif method and method in rule.methods:
                found.append(say(f"the tensor method .{method}()", f"张量方法 .{method}()")
                             + _at(node.lineno, _line(source, node.lineno)))
    return list(dict.fromkeys(found))


_EXERCISES_MODULE = "course.exercises"


def refused_imports(source: str) -> list[str]:
    """Uses of the course.exercises package in a learner's cell, other than `from course.exercises import check`."""
    tree = parse(source)
    if tree is None:
        return []
    found = []
    names = _Names()
    names.visit(tree)
    for node in ast.walk(tree):
        where = f"line {getattr(node, 'lineno', '?')}: `{_line(source, getattr(node, 'lineno', 0))}`"
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module == _EXERCISES_MODULE and all(a.name == "check" for a in node.names):
                continue
            if node.module.startswith(_EXERCISES_MODULE) or (
                    node.module == "course" and any(a.name == "exercises" for a in node.names)):
                found.append(where)
        elif isinstance(node, ast.Import):
            if any(a.name.startswith(_EXERCISES_MODULE) for a in node.names):
                found.append(where)
        elif isinstance(node, ast.Attribute):
            dotted = names.resolve(node)
            if dotted and dotted.startswith(_EXERCISES_MODULE) and dotted != f"{_EXERCISES_MODULE}.check":
                found.append(where)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _EXERCISES_MODULE in node.value:
            found.append(where)
    return list(dict.fromkeys(found))




def _defined(tree) -> set[str]:
    out = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, ast.Assign):
            out.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return out


def relevant_sources(cells, name: str | None) -> list[str]:
    """The code an exercise's answer consists of: the last code cell that defines `name`, and the
    cells defining the top-level functions and classes it uses (and those they use).

    `cells` is a list of code cell sources in notebook order.
    """
    trees = {i: parse(text) for i, text in enumerate(cells)}
    definers, helpers = {}, {}
    for i, tree in trees.items():
        if tree is None:
            continue
        for n in _defined(tree):
            definers[n] = i                     # the last definition wins, as when the cells run
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                helpers[node.name] = i
    if name not in definers:
        return []
    todo, seen = [definers[name]], set()
    while todo:
        i = todo.pop()
        if i in seen:
            continue
        seen.add(i)
        tree = trees.get(i)
        if tree is None:
            continue
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        todo.extend(helpers[u] for u in used if u in helpers and helpers[u] not in seen)
    return [cells[i] for i in sorted(seen)]
