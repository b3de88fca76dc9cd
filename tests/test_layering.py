"""The package's layers, enforced: every module of `course/` sits on one layer and imports only from its own
layer or below, and no two files import each other (directly or round a circle).

Every import statement counts, function-local ones too: an import deferred into a function is still a
dependency, and a circle hidden that way is still a circle. The table below is the one place that gives
each top-level module its layer; a new top-level module fails the test until it is placed here.
"""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "course"

# Higher numbers sit higher; a module may import from its own layer or any layer below.
LAYERS = {
    # applications: the `course` command and what it runs
    "course.__main__": 9, "course.cli": 9, "course.apps": 9,
    # lesson builder and grader; the lesson checks use the facade
    "course.notebooks": 8, "course.exercises": 8,
    # TensorFlow-shaped names only
    "course.tf": 7,
    # beyond one process and beyond training
    "course.distributed": 6, "course.compress": 6, "course.export": 6,
    # the Keras-style engine and the graph engine (TF1 graphs and tf.function traces)
    "course.keras": 5, "course.graph": 5,
    # the eager engine: tensors, Variables, GradientTape, tf.data
    "course.tape": 4,
    # shared maths: update rules, losses, layer kernels, initialisers; the TensorBoard event writer
    "course.optim": 3, "course.losses": 3, "course.layers": 3, "course.initializers": 3, "course.summary": 3,
    # from-scratch forward/backward pairs and numeric gradient checks
    "course.scratch": 2, "course.gradcheck": 2,
    # TF's shared vocabulary: dtypes, shapes, errors, nest, conversions, identifiers; file access
    "course.framework": 1, "course.gfile": 1,
    # data, device and seeds, figures, configuration, atomic file writes
    "course.data": 0, "course.device": 0, "course.plot": 0, "course.config": 0, "course.atomic_file": 0,
}

# Keras' own pattern: a Model can be a Functional, and a Functional is a Model.
ALLOWED_CIRCLES = [{"course/keras/model.py", "course/keras/functional.py"}]


def _module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(module, level, current, is_package):
    if level == 0:
        return module
    base = current.split(".")
    base = base if is_package else base[:-1]
    base = base[:len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def imports_of(path, current=None):
    """(imported module, line) for every import statement in the file, function-local ones included."""
    current = current or _module_name(path)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node.module, node.level, current, is_package)
            for alias in node.names:
                found.append((f"{base}.{alias.name}" if alias.name != "*" else base, node.lineno))
    return [(name, line) for name, line in found if name == "course" or name.startswith("course.")]


def _files():
    return sorted(p for p in PACKAGE.rglob("*.py"))


def layer_of(module):
    for prefix in sorted(LAYERS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return prefix, LAYERS[prefix]
    return None, None


def _file_of(module):
    """The file an imported name lives in: a module file, else the package's __init__, else None."""
    parts = module.split(".")
    while parts:
        base = PACKAGE.parent.joinpath(*parts)
        if base.with_suffix(".py").is_file():
            return base.with_suffix(".py")
        if (base / "__init__.py").is_file():
            return base / "__init__.py"
        parts = parts[:-1]
    return None


def test_every_top_level_module_has_a_layer():
    tops = {".".join(_module_name(p).split(".")[:2]) for p in _files()}
    tops.discard("course")
    missing = sorted(t for t in tops if layer_of(t)[0] is None)
    assert not missing, f"place these modules in LAYERS (tests/test_layering.py): {missing}"


def test_no_module_imports_from_a_higher_layer():
    upward = []
    for path in _files():
        me = _module_name(path)
        if me == "course":
            continue
        my_top, my_layer = layer_of(me)
        for name, line in imports_of(path):
            top, layer = layer_of(name)
            if top is None or top == my_top:
                continue
            if layer > my_layer:
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line} ({my_top}, layer {my_layer}) imports "
                              f"{name} ({top}, layer {layer})")
    assert not upward, "imports that run up the layers:\n" + "\n".join(upward)


def _package_graph():
    edges = {}
    for path in _files():
        me = _module_name(path)
        my_top, _ = layer_of(me)
        if my_top is None:
            continue
        for name, _line in imports_of(path):
            top, _ = layer_of(name)
            if top is not None and top != my_top:
                edges.setdefault(my_top, set()).add(top)
    return edges


def test_packages_of_one_layer_import_each_other_one_way_only():
    edges = _package_graph()
    both = sorted({tuple(sorted((a, b))) for a, targets in edges.items() for b in targets
                   if a in edges.get(b, set())})
    assert not both, f"packages importing each other both ways: {both}"


def _file_graph():
    graph = {}
    for path in _files():
        if path.name == "__init__.py":
            continue        # a package's __init__ re-exports; circles through it are not between files
        me = str(path.relative_to(PACKAGE.parent))
        for name, _line in imports_of(path):
            target = _file_of(name)
            if target is None or target.name == "__init__.py" or target == path:
                continue
            graph.setdefault(me, set()).add(str(target.relative_to(PACKAGE.parent)))
    return graph


def _strongly_connected(graph):
    """Tarjan's algorithm, iterative: the groups of files that reach each other."""
    index, low, on_stack, stack, groups, counter = {}, {}, set(), [], [], [0]
    nodes = set(graph) | {t for ts in graph.values() for t in ts}

    def visit(root):
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(group)

    for node in sorted(nodes):
        if node not in index:
            visit(node)
    return groups


def test_no_import_circles_between_files():
    circles = [sorted(g) for g in _strongly_connected(_file_graph()) if g not in ALLOWED_CIRCLES]
    assert not circles, "files that import each other (round a circle):\n" + "\n".join(map(str, circles))


def test_the_checker_sees_planted_upward_imports_and_circles(tmp_path):
    # The checks above must be able to fail: a planted module is read like any other.
    planted = tmp_path / "m.py"
    planted.write_text("def f():\n    from course.keras import Model\nfrom . import sibling\n")
    found = sorted(imports_of(planted, current="course.framework.m"), key=lambda item: item[1])
    assert found == [("course.keras.Model", 2), ("course.framework.sibling", 3)]
    assert layer_of(found[0][0])[1] > layer_of("course.framework.m")[1]
    assert _strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert layer_of("course.graph.session") == ("course.graph", 5)


def test_imports_resolve_to_files():
    # A typo in an import the layering reads must not slip through as "no edge".
    unresolved = [f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}"
                  for path in _files() for name, line in imports_of(path) if _file_of(name) is None]
    assert not unresolved, "imports naming no file of the package:\n" + "\n".join(unresolved)
