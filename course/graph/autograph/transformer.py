"""AutoGraph's source rewrite: Python control flow into calls of `operators` (parsed with `ast`).

    if x > 0:                        def ag__if_true_1(y):
        y = x                            y = x
    else:                                return (y,)
        y = -x               ->      def ag__if_false_2(y):
                                         y = -x
                                         return (y,)
                                     (y,) = ag__.if_stmt(x > 0, ag__if_true_1, ag__if_false_2,
                                                         ag__.ld(locals(), ('y',)), ('y',))

Each converted statement becomes one call (`if_stmt`, `while_stmt`, `for_stmt`); its branches and
body become functions that take and return the variables the statement assigns, so the operator can
run them as Python (a Python condition) or trace them into a `tf.cond` / `tf.while_loop` (a tensor).
Three passes, as TensorFlow's converters do:
1. `break` and `continue` become flags (`break__1 = True`) guarding the rest of the body; a loop
   with `break` also tests its flag;
2. an early `return` moves the statements after its `if` into the branches, so every path of that
   `if` ends in a return (the `if` then returns the operator's result);
3. `if`/`while`/`for` become the calls above, innermost first; `and`/`or`/`not` and `a if c else b`
   become lazy operator calls. A loop containing `return` stays a Python loop; on a tensor it raises
   TensorFlow's NotImplementedError (TF cannot put a return inside a graph loop either). A
   `tf.autograph.experimental.set_loop_options(...)` statement in a loop body becomes the loop
   call's `opts` (shape invariants, maximum iterations), as TF's directive does.
"""
import ast
import copy
import itertools

__all__ = ["convert_function_def", "assigned_names"]

_GENERATED = "ag__"


def _name(id_, store=False):
    return ast.Name(id=id_, ctx=ast.Store() if store else ast.Load())


def _ag(attr):
    return ast.Attribute(value=_name("ag__"), attr=attr, ctx=ast.Load())


def _call(attr, *args):
    return ast.Call(func=_ag(attr), args=list(args), keywords=[])


def _lambda(body):
    return ast.Lambda(args=ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                                         kwarg=None, defaults=[]), body=body)


def _tuple(names, store=False):
    return ast.Tuple(elts=[_name(n, store) for n in names], ctx=ast.Store() if store else ast.Load())


def _str_tuple(names):
    return ast.Tuple(elts=[ast.Constant(n) for n in names], ctx=ast.Load())


def _def(name, params, body):
    args = ast.arguments(posonlyargs=[], args=[ast.arg(arg=p) for p in params], vararg=None, kwonlyargs=[],
                         kw_defaults=[], kwarg=None, defaults=[])
    return ast.FunctionDef(name=name, args=args, body=body or [ast.Pass()], decorator_list=[], returns=None,
                           type_params=[])


# calls that must stay direct: they read the caller's frame (super, locals) or are never user code
_DIRECT = {"super", "locals", "globals", "vars", "print", "range", "len", "isinstance", "enumerate", "zip",
           "int", "float", "bool", "str", "list", "tuple", "dict", "set", "min", "max", "abs", "sum", "type",
           "getattr", "setattr", "hasattr", "iter", "next", "sorted", "reversed", "round", "repr"}
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
           ast.GeneratorExp)
_LOOPS = (ast.While, ast.For)


def assigned_names(stmts):
    """The local names the statements bind, in first-seen order (not inside nested scopes)."""
    found, skip = [], set()

    def visit(node):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            if node.id not in found:
                found.append(node.id)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            skip.update(node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if not node.name.startswith(_GENERATED) and node.name not in found:
                found.append(node.name)
            return
        if isinstance(node, _SCOPES):
            return
        for child in ast.iter_child_nodes(node):
            visit(child)
    for s in stmts:
        visit(s)
    return sorted(n for n in found if n not in skip)


def _contains(nodes, kinds, into_loops=False):
    """Does a statement list hold a node of `kinds` (not inside nested scopes, nor loops unless asked)?"""
    for node in nodes:
        if isinstance(node, kinds):
            return True
        if isinstance(node, _SCOPES) or (isinstance(node, _LOOPS) and not into_loops):
            continue
        if _contains(list(ast.iter_child_nodes(node)), kinds, into_loops):
            return True
    return False


class _Counter:
    def __init__(self):
        self._n = itertools.count(1)

    def new(self, base):
        return f"{base}_{next(self._n)}"


# -- pass 1: break and continue -------------------------------------------------------------------------------
def _set_flag(flag, value):
    return ast.Assign(targets=[_name(flag, True)], value=ast.Constant(value))


def _guard(stmts, flag, kind):
    """`stmts` with each `kind` statement replaced by `flag = True` and what follows it guarded."""
    out = []
    for i, s in enumerate(stmts):
        if isinstance(s, kind):
            out.append(_set_flag(flag, True))
            return out
        if isinstance(s, (ast.If, ast.With)) and _contains([s], kind):
            s.body = _guard(s.body, flag, kind)
            if isinstance(s, ast.If):
                s.orelse = _guard(s.orelse, flag, kind)
            out.append(s)
            rest = stmts[i + 1:]
            if rest:
                out.append(ast.If(test=_call("not_", _name(flag)), body=_guard(rest, flag, kind), orelse=[]))
            return out
        out.append(s)
    return out


class _LowerJumps(ast.NodeTransformer):
    def __init__(self, counter):
        self.counter = counter

    def visit_FunctionDef(self, node):
        return node if getattr(self, "_entered", False) else self._enter(node)

    def _enter(self, node):
        self._entered = True
        self.generic_visit(node)
        return node

    def visit_Lambda(self, node):
        return node

    def _loop(self, node):
        self.generic_visit(node)
        if _contains(node.body, (ast.Return, ast.Yield, ast.YieldFrom), into_loops=True):
            node._ag_keep = True                        # stays a Python loop (TF: no return in a graph loop)
            for inner in ast.walk(node):
                if isinstance(inner, ast.If) and _contains(inner.body + inner.orelse, ast.Return, into_loops=True):
                    inner._ag_keep = True
            if isinstance(node, ast.While):
                node.test = _call("python_loop_test", node.test)
            else:
                node.iter = _call("python_loop_iter", node.iter)
            return node
        pre, post = [], list(node.orelse)
        if _contains(node.body, ast.Continue):
            flag = self.counter.new("continue_")
            node.body = [_set_flag(flag, False)] + _guard(node.body, flag, ast.Continue)
        if _contains(node.body, ast.Break):
            flag = self.counter.new("break_")
            node.body = _guard(node.body, flag, ast.Break)
            pre = [_set_flag(flag, False)]
            if isinstance(node, ast.While):
                node.test = _call("and_", _lambda(_call("not_", _name(flag))), _lambda(node.test))
            else:
                node._ag_extra_test = flag
            post = [ast.If(test=_call("not_", _name(flag)), body=post, orelse=[])] if post else []
        node.orelse = []
        return pre + [node] + post

    visit_While = visit_For = _loop


# -- pass 2: early returns --------------------------------------------------------------------------------------
def _returns_in_if(stmts):
    for s in stmts:
        if isinstance(s, ast.If) and _contains(s.body + s.orelse, ast.Return):
            return True
        if isinstance(s, (ast.If, ast.With)) and _returns_in_if(s.body + getattr(s, "orelse", [])):
            return True
    return False


def _normalize(stmts, cont):
    """Every path through an `if` that holds a return ends in a return: the rest follows each branch."""
    stmts = stmts + cont
    for i, s in enumerate(stmts):
        if isinstance(s, (ast.Return, ast.Raise)):
            return stmts[:i + 1]
        if isinstance(s, ast.If) and _contains([s], ast.Return):
            tail = stmts[i + 1:]
            s.body = _normalize(s.body, copy.deepcopy(tail))
            s.orelse = _normalize(s.orelse, copy.deepcopy(tail))
            return stmts[:i + 1]
    return stmts


# -- pass 3: statements into operator calls -------------------------------------------------------------------
class _Convert(ast.NodeTransformer):
    def __init__(self, counter):
        self.counter = counter
        self._depth = 0

    def visit_FunctionDef(self, node):
        if self._depth and not node.name.startswith(_GENERATED):
            return node                                 # a nested user function is converted when called
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1
        return node

    def visit_Lambda(self, node):
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        func = node.func
        if isinstance(func, ast.Name) and func.id in _DIRECT:
            return node
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "ag__":
            return node
        node.func = _call("converted_call", func)       # a user function called here is converted too
        return node

    def visit_BoolOp(self, node):
        self.generic_visit(node)
        op = "and_" if isinstance(node.op, ast.And) else "or_"
        return _call(op, *[_lambda(v) for v in node.values])

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            return _call("not_", node.operand)
        return node

    def visit_IfExp(self, node):
        self.generic_visit(node)
        return _call("if_exp", node.test, _lambda(node.body), _lambda(node.orelse))

    def visit_If(self, node):
        self.generic_visit(node)
        if getattr(node, "_ag_keep", False):
            return node
        returns = _contains(node.body + node.orelse, ast.Return)
        names = assigned_names(node.body + node.orelse)
        tail = [] if returns else [ast.Return(value=_tuple(names))]
        t_name, f_name = self.counter.new("ag__if_true"), self.counter.new("ag__if_false")
        t_def = _def(t_name, names, node.body + tail)
        f_def = _def(f_name, names, (node.orelse or ([] if tail else [ast.Return(ast.Constant(None))])) + tail)
        call = ast.Call(func=_ag("if_stmt"), args=[node.test, _name(t_name), _name(f_name), self._state(names),
                                                    _str_tuple(names)],
                        keywords=[ast.keyword(arg="returns", value=ast.Constant(True))] if returns else [])
        return [t_def, f_def, self._bind(names, call, returns)]

    def visit_While(self, node):
        if getattr(node, "_ag_keep", False):
            self.generic_visit(node)
            return node
        node.body, opts = _loop_options(node.body)          # before the calls in the body are wrapped
        self.generic_visit(node)
        names = assigned_names(node.body)
        test_name, body_name = self.counter.new("ag__loop_test"), self.counter.new("ag__loop_body")
        test_def = _def(test_name, names, [ast.Return(value=node.test)])
        body_def = _def(body_name, names, node.body + [ast.Return(value=_tuple(names))])
        call = _call("while_stmt", _name(test_name), _name(body_name), self._state(names), _str_tuple(names))
        call.keywords = opts
        return [test_def, body_def, self._bind(names, call)]

    def visit_For(self, node):
        if getattr(node, "_ag_keep", False):
            self.generic_visit(node)
            return node
        node.body, opts = _loop_options(node.body)          # before the calls in the body are wrapped
        self.generic_visit(node)
        names = sorted(set(assigned_names(node.body)) | set(assigned_names([node.target])))
        item, body_name = self.counter.new("itr"), self.counter.new("ag__loop_body")
        unpack = ast.Assign(targets=[node.target], value=_name(item))
        body_def = _def(body_name, [item] + names, [unpack] + node.body + [ast.Return(value=_tuple(names))])
        flag = getattr(node, "_ag_extra_test", None)
        defs = [body_def]
        extra = ast.Constant(None)
        if flag:
            extra_name = self.counter.new("ag__extra_test")
            defs.append(_def(extra_name, names, [ast.Return(value=_call("not_", _name(flag)))]))
            extra = _name(extra_name)
        call = _call("for_stmt", node.iter, extra, _name(body_name), self._state(names), _str_tuple(names))
        call.keywords = opts
        return defs + [self._bind(names, call)]

    @staticmethod
    def _state(names):
        locs = ast.Call(func=_name("locals"), args=[], keywords=[])
        return _call("ld", locs, _str_tuple(names))

    @staticmethod
    def _bind(names, call, returns=False):
        if returns:
            return ast.Return(value=call)
        if not names:
            return ast.Expr(value=call)
        return ast.Assign(targets=[_tuple(names, store=True)], value=call)


def _loop_options(body):
    """(body without its `tf.autograph.experimental.set_loop_options(...)` statements, their keyword
    arguments as `opts=dict(...)`): TF's loop directive, evaluated where the loop starts."""
    kept, keywords = [], []
    for stmt in body:
        call = stmt.value if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) else None
        func = call.func if call is not None else None
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        if name == "set_loop_options" and not call.args:
            keywords += call.keywords
        else:
            kept.append(stmt)
    if not keywords:
        return body, []
    opts = ast.Call(func=_name("dict"), args=[], keywords=keywords)
    return kept or [ast.Pass()], [ast.keyword(arg="opts", value=opts)]


def convert_function_def(fdef):
    """The converted copy of an `ast.FunctionDef` (decorators removed)."""
    fdef = copy.deepcopy(fdef)
    fdef.decorator_list = []
    counter = _Counter()
    fdef = _LowerJumps(counter).visit(fdef)
    if _returns_in_if(fdef.body):
        fdef.body = _normalize(fdef.body, [ast.Return(value=ast.Constant(None))])
    fdef = _Convert(counter).visit(fdef)
    return ast.fix_missing_locations(fdef)
