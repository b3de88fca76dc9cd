"""The learner's code never grades itself: cheats score what their real code earns.

One batch of small lesson-03 notebooks (dense 2 points, softmax 2, mlp_forward 3) is graded by
`course grade`'s own function, honest notebooks before and after the cheating ones. The checks run
in the grader's process and only plain data crosses from the learner's kernel, so replacing the
check machinery in the kernel, printing forged result lines, answers that equal everything or
patched comparison functions change nothing, and a careless `print`/`sys.stdout` override costs
nothing. The forbidden-call rules are checked on every exercise that declares one, against the
reference solutions in `solutions/` and against solutions that use the forbidden call.
"""
import json
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")
from nbformat import v4  # noqa: E402

from course.exercises import registry  # noqa: E402
from course.exercises.forbidden import refused_imports, relevant_sources, violations  # noqa: E402
from course.exercises.grader import grade_notebooks  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

HEAD = "import torch\nimport numpy as np\nfrom course.exercises import check"
DENSE = "def dense(x, w, b):\n    return x @ w + b"
SOFTMAX = ("def softmax(z):\n    e = torch.exp(z - z.amax(dim=-1, keepdim=True))\n"
           "    return e / e.sum(dim=-1, keepdim=True)")
MLP = ("def mlp_forward(x, params):\n    h = torch.relu(x @ params['w1'] + params['b1'])\n"
       "    return softmax(h @ params['w2'] + params['b2'])")
STUBS = "\n\n".join(f"def {name}(*args):\n    raise NotImplementedError()"
                    for name in ("dense", "softmax", "mlp_forward"))
HONEST = [HEAD, DENSE, 'check("3.1", dense)', SOFTMAX, 'check("3.2", softmax)', MLP, 'check("3.3", mlp_forward)']

# What a student might try, each on top of the unsolved stubs (so its real code earns 0).
CHEATS = {
    "replace_runner": [HEAD, STUBS,
                       "import course.exercises.checking as c\n"
                       "c.run_checks = lambda *a, **k: c.Result(a[0], 10, 10, 'passed', '')"],
    "replace_registry_obfuscated": [HEAD, STUBS,
                                    "import sys\nm = sys.modules['course.' + 'exercises.registry']\n"
                                    "m.checks_for = lambda i: []\nm.max_points = lambda i: 1000"],
    "forge_driver": [HEAD, STUBS,
                     "import sys, json\nd = __import__('course.' + 'exercises.driver', fromlist=['x'])\n"
                     "def serve(ns, req, path):\n"
                     "    open(path, 'w').write(json.dumps({'ok': {'$': 'dict', 'k': ['points'], 'v': [4000]}}))\n"
                     "d.serve = serve"],
    "forged_result_line": [HEAD, STUBS,
                           "import json\nfor i in ('3.1', '3.2', '3.3'):\n"
                           "    print('@@course-grade-0000@@' + json.dumps({'id': i, 'points': 4000, 'max': 4, "
                           "'status': 'passed', 'message': ''}))"],
    "equals_everything": [HEAD,
                          "class Anything:\n"
                          "    def __eq__(self, other): return True\n"
                          "    def __ne__(self, other): return False\n"
                          "    def __getattr__(self, name): return lambda *a, **k: self\n"
                          "    def numpy(self): return self\n"
                          "def dense(x, w, b): return Anything()\n"
                          "def softmax(z): return Anything()\n"
                          "def mlp_forward(x, p): return Anything()"],
    "patched_comparisons": [HEAD,
                            "def dense(x, w, b): return torch.zeros(x.shape[0], w.shape[1])\n"
                            "def softmax(z): return torch.zeros_like(z)\n"
                            "def mlp_forward(x, p): return torch.zeros(x.shape[0], p['w2'].shape[1])",
                            "torch.allclose = lambda *a, **k: True\ntorch.equal = lambda *a, **k: True\n"
                            "torch.isclose = lambda a, b, **k: torch.ones(torch.as_tensor(a).shape, dtype=torch.bool)\n"
                            "np.allclose = lambda *a, **k: True\nnp.array_equal = lambda *a, **k: True"],
}

# A careless override of print or stdout in an otherwise honest notebook costs nothing.
CARELESS = {
    "print_override": HONEST[:1] + ["import builtins\nbuiltins.print = lambda *a, **k: None"] + HONEST[1:],
    "stdout_replaced": HONEST[:1] + ["import sys, io\nsys.stdout = io.StringIO()"] + HONEST[1:],
}

# 3.2 forbids the softmax functions; the other two exercises are honest (2 + 3 points).
_FORBIDDEN_SOFTMAX = {
    "direct": "def softmax(z):\n    return torch.softmax(z, dim=-1)",
    "alias": "from torch.nn.functional import softmax as sm\ndef softmax(z):\n    return sm(z, dim=-1)",
    "method": "def softmax(z):\n    return z.softmax(-1)",
    "getattr": "def softmax(z):\n    return getattr(torch, 'softmax')(z, -1)",
    "facade": "from course import tf\ndef softmax(z):\n    return tf.nn.softmax(z)",
}
FORBIDDEN = {f"forbidden_{k}": [HEAD, DENSE, src, MLP] for k, src in _FORBIDDEN_SOFTMAX.items()}


def _write(folder: Path, name: str, codes) -> Path:
    cells = [v4.new_markdown_cell("## Exercise 3.1\n\n## Exercise 3.2\n\n## Exercise 3.3")]
    cells += [v4.new_code_cell(c) for c in codes]
    path = folder / f"03_{name}.ipynb"
    nbformat.write(v4.new_notebook(cells=cells), str(path))
    return path


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    order = [("honest_first", HONEST)] + list(CHEATS.items()) + list(CARELESS.items()) + list(FORBIDDEN.items()) \
        + [("honest_last", HONEST)]
    paths = [_write(folder, name, codes) for name, codes in order]
    grades, errors = grade_notebooks(paths, jobs=2, timeout=60)
    assert not errors
    by_name = {Path(g.notebook).stem[3:]: g for g in grades}
    assert sorted(by_name) == sorted(name for name, _ in order)      # a result for every notebook
    return by_name


# Lesson 3's coded exercises, which these notebooks answer; its questions (3.4, 3.5) and outcome task (3.6)
# are left unanswered, so they score 0 and every maximum is 7 + 5.
CODED = ("3.1", "3.2", "3.3")
LESSON_MAX = 12


def _points(grade):
    unanswered = {r.id: r.points for r in grade.exercises if r.id not in CODED}
    assert unanswered == {"3.4": 0, "3.5": 0, "3.6": 0}, grade.to_text()
    return {r.id: r.points for r in grade.exercises if r.id in CODED}


def test_honest_notebooks_get_full_marks(batch):
    for name in ("honest_first", "honest_last"):
        assert _points(batch[name]) == {"3.1": 2, "3.2": 2, "3.3": 3}, batch[name].to_text()
        assert batch[name].max == LESSON_MAX


@pytest.mark.parametrize("name", sorted(CHEATS))
def test_cheats_earn_what_their_code_earns(batch, name):
    grade = batch[name]
    assert grade.total == 0 and grade.max == LESSON_MAX, grade.to_text()   # maxima: the grader's registry


def test_importing_the_checks_is_refused(batch):
    cells = {status for _, status, _ in batch["replace_runner"].cells}
    assert "refused" in cells


@pytest.mark.parametrize("name", sorted(CARELESS))
def test_careless_print_or_stdout_costs_nothing(batch, name):
    assert _points(batch[name]) == {"3.1": 2, "3.2": 2, "3.3": 3}, batch[name].to_text()


@pytest.mark.parametrize("name", sorted(FORBIDDEN))
def test_forbidden_softmax_fails_only_its_exercise(batch, name):
    grade = batch[name]
    assert _points(grade) == {"3.1": 2, "3.2": 0, "3.3": 3}, grade.to_text()
    message = next(r.message for r in grade.exercises if r.id == "3.2")
    assert "softmax" in message and "not allowed" in message, message


def test_results_record_the_seed(batch):
    data = batch["honest_first"].to_json()
    assert all(isinstance(e["seed"], int) for e in data["exercises"])


# -- every exercise that forbids something, against its reference solution and a cheat ---------------
def _solution_cells(lesson: int):
    [path] = (ROOT / "solutions").glob(f"{lesson:02d}_*.ipynb")
    nb = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


USING_THE_FORBIDDEN = {
    "2.1": ["import course.tf.compat.v1 as tf\ndef quadratic_graph(a, b, c, xs):\n"
            "    x = tf.placeholder(tf.float32, (None,))\n    with tf.Session() as s:\n"
            "        s.run(x, {x: xs})\n    return a * x * x, {x: xs}"],
    "2.4": ["import course.tf.compat.v1 as tf\ndef sgd_step_op(loss, var_list, lr):\n"
            "    return tf.train.GradientDescentOptimizer(lr).minimize(loss, var_list=var_list)",
            "import course.tf.compat.v1 as tf\nopt = tf.train.GradientDescentOptimizer\n"
            "def sgd_step_op(loss, var_list, lr):\n    return opt(lr).minimize(loss)"],
    "3.2": list(_FORBIDDEN_SOFTMAX.values()),
    "6.2": ["def log_softmax(z):\n    return torch.log_softmax(z, -1)",
            "def log_softmax(z):\n    return z - torch.logsumexp(z, -1, keepdim=True)",
            "import torch.nn.functional as F\ndef log_softmax(z):\n    return F.log_softmax(z, -1)",
            "def log_softmax(z):\n    return z.log_softmax(-1)",
            "def log_softmax(z):\n    return torch.log(getattr(torch, 'softmax')(z, -1))",
            "from course import tf\ndef log_softmax(z):\n    return tf.nn.log_softmax(z)"],
    "9.2": ["def build_mlp(hidden=128, dropout=0.2, num_classes=10):\n    m = make()\n"
            "    m.compile(loss='mse')\n    return m"],
    "11.2": ["import torch.nn.functional as F\ndef conv2d_nhwc(x, kernel, bias, stride=1, padding='VALID'):\n"
             "    return F.conv2d(x.permute(0, 3, 1, 2), kernel.permute(3, 2, 0, 1), bias).permute(0, 2, 3, 1)",
             "from course import tf\ndef conv2d_nhwc(x, kernel, bias, stride=1, padding='VALID'):\n"
             "    return tf.nn.conv2d(x, kernel, stride, padding) + bias",
             "from torch.nn.functional import conv2d as c\n"
             "def conv2d_nhwc(x, kernel, bias, stride=1, padding='VALID'):\n"
             "    return c(x, kernel, bias)"],
    "11.6": ["import torch\ndef conv2d_backward_nhwc(dy, x, kernel, stride=1, padding='VALID'):\n"
             "    x = x.detach().requires_grad_()\n    y = torch.nn.functional.conv2d(x, kernel)\n"
             "    y.backward(dy)\n    return x.grad",
             "import torch\ndef conv2d_backward_nhwc(dy, x, kernel, stride=1, padding='VALID'):\n"
             "    return torch.autograd.grad(x.sum(), x)",
             "from course import tf\ndef conv2d_backward_nhwc(dy, x, kernel, stride=1, padding='VALID'):\n"
             "    with tf.GradientTape() as t:\n        t.watch(x)\n    return t.gradient(x, x)"],
    "11.4": ["def build_cnn(filters1=32, filters2=64, hidden=64, num_classes=10):\n    m = make()\n"
             "    m.compile(optimizer='adam')\n    return m"],
}


# The course's from-scratch version of an exercise is its answer key: using it is forbidden too.
_SCRATCH_TWIN = {"3.1": "dense_forward", "3.2": "softmax_forward", "3.3": "TwoLayerNet", "4.1": "sigmoid_backward",
                 "4.2": "relu_backward", "4.3": "dense_backward", "4.4": "softmax_cross_entropy", "6.1": "mse_loss",
                 "6.2": "softmax_forward", "6.4": "hinge_loss", "10.2": "dropout_forward", "11.1": "output_size",
                 "11.2": "conv2d_forward", "11.3": "max_pool2d_forward",
                 "11.6": "conv2d_backward"}
for _id, _twin in _SCRATCH_TWIN.items():
    USING_THE_FORBIDDEN.setdefault(_id, []).append(
        f"from course import scratch\ndef answer(*args):\n    return scratch.{_twin}(*args)[0]")


def _forbidding():
    ids = []
    for lesson in range(16):
        ids += [i for i in registry.exercise_ids(lesson) if registry.forbidden(i) is not None]
    return ids


def test_every_forbidding_exercise_has_a_cheat_here():
    assert sorted(_forbidding(), key=registry.sort_key) == sorted(USING_THE_FORBIDDEN, key=registry.sort_key)


@pytest.mark.parametrize("exercise_id", sorted(USING_THE_FORBIDDEN, key=registry.sort_key))
def test_reference_solution_passes_and_forbidden_use_fails(exercise_id):
    rule = registry.forbidden(exercise_id)
    cells = _solution_cells(registry.lesson_of(exercise_id))
    answer = relevant_sources(cells, registry.object_name(exercise_id))
    assert answer, f"no cell of the solutions defines {registry.object_name(exercise_id)}"
    assert violations(answer, rule, cells) == []
    for source in USING_THE_FORBIDDEN[exercise_id]:
        assert violations([source], rule, ["import torch"]), source


def test_only_the_check_import_is_allowed():
    assert refused_imports("from course.exercises import check") == []
    for source in ("from course.exercises import run_checks", "import course.exercises.lesson05",
                   "from course.exercises.lesson05 import _sgd_step_float64",
                   "import course\ncourse.exercises.registry",
                   "__import__('course.exercises.driver')", "from course import exercises"):
        assert refused_imports(source), source
    for lesson in range(16):           # the lessons themselves import only check
        for cell in _solution_cells(lesson):
            assert refused_imports(cell) == [], cell


# -- at run time: names built while the code runs, which the source does not show --------------------
def _sneaky_softmax(z):
    import torch
    return getattr(torch, "soft" + "max")(z, -1)


def _sneaky_method(z):
    return getattr(z, "soft" + "max")(-1)


def _sneaky_log_softmax(z):
    import torch.nn.functional as F
    return F.__dict__["log_" + "softmax"](z, -1)


def _sneaky_scratch(dout, cache):
    module = __import__("course.scr" + "atch", fromlist=["x"])
    return getattr(module, "sigmoid_" + "backward")(dout, cache)


@pytest.mark.parametrize("exercise_id, answer", [("3.2", _sneaky_softmax), ("3.2", _sneaky_method),
                                                 ("6.2", _sneaky_log_softmax), ("4.1", _sneaky_scratch)])
def test_forbidden_calls_are_also_seen_at_run_time(exercise_id, answer):
    import torch

    from course.exercises import run_checks
    originals = (torch.softmax, torch.nn.functional.log_softmax, "softmax" in vars(torch.Tensor))
    result = run_checks(exercise_id, answer)
    assert result.status == "failed" and "while it ran" in result.message and "not allowed" in result.message
    assert (torch.softmax, torch.nn.functional.log_softmax, "softmax" in vars(torch.Tensor)) == originals


# -- the codec: only plain data, validated, whatever the other side sends ----------------------------
def test_codec_round_trip_against_the_originals():
    import numpy as np
    import torch

    from course.exercises import codec
    from course.tape.tensor import EagerTensor
    from course.tape.variables import Variable
    values = [torch.arange(6, dtype=torch.float32).reshape(2, 3), torch.tensor([1.5, -2.0], dtype=torch.bfloat16),
              np.array([[1, 2]], dtype=np.uint8), np.float64(2.5), torch.tensor([True, False]),
              {"k": (1, "two", None, b"\x00\xff")}, [float("inf"), -0.0, 2**70], torch.int64, torch.Size([2, 3])]
    for value in values:
        back = codec.decode(codec.loads(codec.dumps(codec.encode(value))))
        if isinstance(value, torch.Tensor):
            assert type(back) is torch.Tensor and back.dtype == value.dtype and torch.equal(back, value)
        elif isinstance(value, np.ndarray):
            assert back.dtype == value.dtype and np.array_equal(back, value)
        else:
            assert back == value and type(back) is type(value)
    eager = torch.tensor([1.0, 2.0]).as_subclass(EagerTensor)
    assert type(codec.decode(codec.encode(eager))) is EagerTensor
    var = codec.decode(codec.encode(Variable(np.float32([3.0]), name="w")))
    assert isinstance(var, Variable) and var.numpy().tolist() == [3.0]


@pytest.mark.parametrize("text", [
    '{"$": "tensor", "kind": "torch", "dtype": "float32", "shape": [4], "data": "AAAA"}',     # 3 bytes for 16
    '{"$": "tensor", "kind": "torch", "dtype": "object", "shape": [1], "data": ""}',
    '{"$": "pickle", "data": "gASV"}',
    '{"$": "array", "dtype": "float64", "shape": [-1], "data": ""}',
    "[NaN]",
    "[" * 40 + "]" * 40,
    '{"$": "dict", "k": [[1]], "v": [2]}',
])
def test_codec_refuses_what_it_does_not_write(text):
    from course.exercises import codec
    with pytest.raises(codec.CodecError):
        codec.decode(codec.loads(text))


def test_codec_refuses_unknown_objects():
    from course.exercises import codec

    class Anything:
        def __eq__(self, other):
            return True
    with pytest.raises(codec.CodecError):
        codec.encode(Anything())
