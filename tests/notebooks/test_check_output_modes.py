"""Every `# NBVAL_CHECK_OUTPUT` cell prints the same in fast and full mode (static check, course.notebooks.modes).

Why static: the stored outputs may come from a full-mode run while CI compares in fast mode, and
running each lesson in full mode costs minutes of training per lesson on every test run. Instead
a check-output cell may not read anything computed from fast_mode()/COURSE_FAST (followed through
assignments, conditions, loops, calls that change their arguments, and functions that read such
globals), unless it says `# same in both modes: <why>`.
"""
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
from nbformat import v4  # noqa: E402

from course.notebooks.modes import mode_dependent_checks  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))

def flagged(*sources):
    nb = v4.new_notebook(cells=[v4.new_code_cell(s) for s in sources])
    return mode_dependent_checks(nb)


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name[:2])
def test_check_output_cells_do_not_depend_on_the_mode(path):
    found = mode_dependent_checks(nbformat.read(str(path), as_version=4))
    assert not found, "\n".join(f"{path.name}, cell {i} (counting from 0) reads {', '.join(why)}: it may print "
                                f"differently in fast and full mode" for i, why in found)


def test_direct_and_derived_reads_are_found():
    setup = "from course.config import fast_mode\nEPOCHS = 1 if fast_mode() else 5\nN = 100"
    assert flagged(setup, "# NBVAL_CHECK_OUTPUT\nprint(EPOCHS)") == [(1, ["EPOCHS"])]
    assert flagged(setup, "# NBVAL_CHECK_OUTPUT\nprint(N)") == []
    assert flagged("# NBVAL_CHECK_OUTPUT\nimport os\nprint(os.environ.get('COURSE_FAST'))")[0][1][0] \
        == "fast_mode()/COURSE_FAST"
    assert flagged("# NBVAL_CHECK_OUTPUT\nimport course.config\nprint(course.config.fast_mode())") != []


def test_taint_follows_training_calls_and_functions():
    setup = "from course.config import fast_mode\nEPOCHS = 1 if fast_mode() else 5\nmodel = make()"
    assert flagged(setup, "history = model.fit(x, epochs=EPOCHS)", "# NBVAL_CHECK_OUTPUT\nprint(model.evaluate(x))") \
        == [(2, ["model"])]
    assert flagged(setup, "def train(m):\n    m.fit(x, epochs=EPOCHS)", "train(model)",
                   "# NBVAL_CHECK_OUTPUT\nprint(model.weights)") == [(3, ["model"])]
    assert flagged(setup, "if EPOCHS > 1:\n    note = 'long'\nelse:\n    note = 'short'",
                   "# NBVAL_CHECK_OUTPUT\nprint(note)") == [(2, ["note"])]
    assert flagged(setup, "for e in range(EPOCHS):\n    last = e", "# NBVAL_CHECK_OUTPUT\nprint(last)") \
        == [(2, ["last"])]


def test_clean_values_stay_clean():
    setup = "import torch\nfrom course.config import fast_mode\nN = 10 if fast_mode() else 100\nx = torch.randn(N)"
    # a module is not changed by calls; a name assigned again from clean values is clean again
    assert flagged(setup, "x = torch.zeros(3)", "# NBVAL_CHECK_OUTPUT\nprint(torch.ones(2), x)") == []
    assert flagged(setup, "# NBVAL_CHECK_OUTPUT\nprint(len(x))") == [(1, ["x"])]
    # names local to a function, a lambda or a comprehension are not the notebook's
    assert flagged(setup, "# NBVAL_CHECK_OUTPUT\ncheck('1.1', lambda x: x + 1)\nprint([x for x in range(2)])") == []
    assert flagged(setup, "# NBVAL_CHECK_OUTPUT\nfor x in range(2):\n    print(x)") == []


def test_a_cell_may_say_why_it_prints_the_same():
    setup = "from course.config import fast_mode\nN = 10 if fast_mode() else 100"
    assert flagged(setup, "# NBVAL_CHECK_OUTPUT\n# same in both modes: prints only whether N > 0\nprint(N > 0)") == []
    assert flagged(setup, "# NBVAL_CHECK_OUTPUT\nprint(N > 0)") != []


# --- Where running both modes is cheap, run them: the stored outputs against the other mode ------

CHEAP = ["00_setup_and_devices.ipynb", "01_tensors.ipynb"]     # full mode costs what fast mode does


def sanitized(outputs):
    """The text nbval compares: streams coalesced, text/plain and stream text, after tests/nbval_sanitize.cfg."""
    import configparser
    import re
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "tests" / "nbval_sanitize.cfg")
    text = "".join(o.get("text", "") if o.get("output_type") == "stream" else o.get("data", {}).get("text/plain", "")
                   for o in outputs if o.get("output_type") != "error")
    for section in config.sections():
        text = re.sub(config[section]["regex"], config[section]["replace"], text)
    return text


@pytest.mark.slow
@pytest.mark.parametrize("name", CHEAP, ids=lambda n: n[:2])
def test_check_output_cells_print_the_same_when_run_in_the_other_mode(name, tmp_path):
    import shutil

    from course.notebooks import stamps
    from course.notebooks.execute import execute_in_place
    from course.notebooks.modes import CHECK_OUTPUT
    stored = nbformat.read(str(ROOT / "solutions" / name), as_version=4)
    mode = stamps.stamp_of(stored)["mode"]
    shutil.copy(ROOT / "solutions" / name, tmp_path / name)
    execute_in_place(tmp_path / name, fast=(mode == "full"))
    again = nbformat.read(str(tmp_path / name), as_version=4)
    assert stamps.stamp_of(again)["mode"] != mode
    pairs = [(i, a, b) for i, (a, b) in enumerate(zip(stored.cells, again.cells))
             if a.cell_type == "code" and CHECK_OUTPUT.search(a.source)]
    assert pairs
    for index, a, b in pairs:
        assert sanitized(a.outputs) == sanitized(b.outputs), f"{name}, cell {index} (counting from 0)"
