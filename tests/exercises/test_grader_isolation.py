"""`course grade` isolates each learner's notebook: the process boundary and the batch.

One batch of small synthetic notebooks (exercise 93.1: `double`), honest ones before and after
notebooks that attack their surroundings: overwrite every notebook they can reach, write into the
installed package, read `solutions/` and the instructor's checks file, leave detached and sleeping
processes behind to rewrite grades.csv later, reach a port on the grader's side of the network, and
signal the grader and every pid they can see. The honest notebooks keep their true scores, the
submissions are byte-identical afterwards and nothing an attack wrote reached the package or
`solutions/`, nothing of the batch survives it, and the grader ends normally with a result per
notebook. Then the weak mode, resource limits, a grader killed mid-grading, a grading process dying
in a `-j 2` batch, and the atomic output files.

The attacks on the checks themselves live in test_grader_security.py.
"""
import contextlib
import hashlib
import io
import json
import os
import secrets
import socket
import tempfile
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")
from nbformat import v4  # noqa: E402

from course.cli import main  # noqa: E402
from course.exercises.sandbox import SandboxError, choose_mode, read_back  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "course"

CHECKS = '''
from course.exercises import exercise, expect_equal

@exercise("93.1", name="double", points=2)
def _(double):
    expect_equal(double(3), 6, what="double(3)")
'''

HONEST = "import course\n\ndef double(x):\n    return 2 * x"
WRONG = "import course\n\ndef double(x):\n    return x + 2"
# Honest too, if the packaged MNIST is in the sandbox's view: `double` is defined after the lookup.
WITH_DATA = "from course.data.mnist import find_mnist\nfind_mnist(verify=False)\n\ndef double(x):\n    return 2 * x"


def notebook(path, *codes):
    cells = [v4.new_markdown_cell("## Exercise 93.1")] + [v4.new_code_cell(c) for c in codes]
    nbformat.write(v4.new_notebook(cells=cells), str(path))
    return path


def tree_hash(folder: Path) -> dict:
    """path -> sha256 of every file under `folder` (compiled files aside: the grader may write those)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def changed_by(token: str, folder: Path, before: dict) -> list:
    """Files under `folder` new or changed since `before` that hold `token` (what the attacks write).

    Not plain equality: others may be editing the package while this test runs; every write the
    attacks make carries the token, so this finds each one."""
    after = tree_hash(folder)
    return [name for name, digest in after.items()
            if before.get(name) != digest and token.encode() in (folder / name).read_bytes()]


def processes_with(token: str) -> list:
    """Pids whose command line mentions `token` (the attacks put it in every process they start)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            with contextlib.suppress(OSError):
                if token.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
    return found


@pytest.fixture
def sandboxes(tmp_path, monkeypatch):
    """The folder this test's sandboxes are made in: every kernel and init of the test names it on
    its command line, so no other grading running on the machine is mistaken for a survivor."""
    folder = tmp_path / "sandboxes"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))          # worker processes inherit it
    monkeypatch.setattr(tempfile, "tempdir", None)     # this process reads it again
    return folder


def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def attacks(submissions: Path, checks: Path, token: str, *, delay: float = 3, port: int = 9) -> dict:
    """name -> cells; each notebook also defines `double` honestly, unless it says otherwise."""
    sub, pkg, chk = str(submissions), str(PACKAGE), str(checks)
    # A detached grandchild (setsid, double fork) that wakes up after grading and rewrites files.
    later = (f"import os, time, glob\n"
             f"if os.fork(): os._exit(0)\n"
             f"os.setsid()\n"
             f"time.sleep({delay})\n"
             f"for p in glob.glob({sub!r} + '/*') + glob.glob('*'):\n"
             f"    try: open(p, 'w').write('rewritten later')\n"
             f"    except OSError: pass\n"
             f"# {token}")
    return {
        "overwrite": [HONEST,
                      f"import glob, os\n"
                      f"for p in glob.glob('*.ipynb') + glob.glob({sub!r} + '/*') + glob.glob('../*/*.ipynb'):\n"
                      f"    try: open(p, 'w').write('{{\"attack\": {token}}}')\n"
                      f"    except OSError: pass"],
        "package": [HONEST,
                    f"import pathlib, course.exercises\n"
                    f"for folder in (pathlib.Path(course.exercises.__file__).parent, "
                    f"pathlib.Path({pkg!r}) / 'exercises'):\n"
                    f"    for p in list(folder.glob('*.py')) + [folder / 'planted.py']:\n"
                    f"        try: p.write_text('raise SystemExit  # {token}')\n"
                    f"        except OSError: pass"],
        # These define `double` only when the forbidden file could be read: 0 points means it could not.
        "solutions": [f"import pathlib\n"
                      f"text = (pathlib.Path({str(ROOT)!r}) / 'solutions' / '01_tensors.ipynb').read_text()\n"
                      f"def double(x):\n    return 2 * x"],
        "checksfile": [f"text = open({chk!r}).read()\n"
                       f"def double(x):\n    return 2 * x"],
        "lingering": [HONEST,
                      f"import subprocess, sys\n"
                      f"subprocess.Popen(['sleep', '1000.{token}'], start_new_session=True)\n"
                      f"subprocess.Popen(['sleep', '1001.{token}'])\n"
                      f"subprocess.Popen([sys.executable, '-c', {later!r}], start_new_session=True)"],
        # `double` is defined only if the kernel's own localhost works (gloo meets there in lesson
        # 14) and a port open on the grader's side of the network is out of reach.
        "network": [f"import socket\n"
                    f"server = socket.create_server(('127.0.0.1', 0))\n"
                    f"socket.create_connection(server.getsockname(), timeout=5).close()\n"
                    f"try:\n"
                    f"    socket.create_connection(('127.0.0.1', {port}), timeout=5).close()\n"
                    f"    reached = True\n"
                    f"except OSError:\n"
                    f"    reached = False\n"
                    f"if not reached:\n"
                    f"    def double(x):\n"
                    f"        return 2 * x"],
        "signals": [f"import os, signal\n"
                    f"for sig in (signal.SIGTERM, signal.SIGKILL):\n"
                    f"    for pid in {{os.getppid(), 1, {os.getpid()}}} "
                    f"| {{int(p) for p in os.listdir('/proc') if p.isdigit()}}:\n"
                    f"        if pid != os.getpid():\n"
                    f"            try: os.kill(pid, sig)\n"
                    f"            except OSError: pass\n"
                    f"try: os.kill(-1, signal.SIGKILL)\n"
                    f"except OSError: pass",
                    HONEST],
    }


@pytest.fixture(params=["namespace", "userns"])
def isolating_mode(request):
    try:
        return choose_mode(request.param)
    except SandboxError as exc:
        pytest.skip(f"not available here: {exc}")


def test_batch_of_attacks_changes_nothing_but_their_own_score(tmp_path, isolating_mode, sandboxes):
    """namespace: the grader is root, the kernel runs as nobody; userns: an ordinary user's mode
    (tried here as whoever runs the tests), the kernel keeps that user's id without capabilities."""
    mode = isolating_mode
    token = str(10**11 + secrets.randbelow(10**11))   # digits: it ends a `sleep` argument
    private = tmp_path / "private"
    private.mkdir()
    checks = private / "checks.py"
    checks.write_text(CHECKS)
    subs = tmp_path / "submissions"
    subs.mkdir()
    table = subs / "grades.csv"
    table.write_text("an earlier table\n")
    listener = socket.create_server(("127.0.0.1", 0))         # on the grader's side of the network
    cases = {"a_honest": [WITH_DATA], "b_wrong": [WRONG]}
    cases.update({f"c_{name}": cells
                  for name, cells in attacks(subs, checks, token, port=listener.getsockname()[1]).items()})
    cases.update({"d_honest": [HONEST], "e_wrong": [WRONG]})
    paths = [notebook(subs / f"{name}.ipynb", *cells) for name, cells in cases.items()]
    subs_before, package_before = tree_hash(subs), tree_hash(PACKAGE)
    solutions_before = tree_hash(ROOT / "solutions")

    started = time.monotonic()
    code, out, err = run_cli("grade", *map(str, paths), "-j", "2", "--json", "--csv", str(table),
                             "--checks", str(checks), "--timeout", "30", "--sandbox", mode)
    seconds = time.monotonic() - started
    # Nothing of the batch outlives it: no kernel, no process an attack started, no private folder.
    assert processes_with(token) == [] and processes_with(str(sandboxes)) == []
    assert list(sandboxes.iterdir()) == []
    assert code == 0, err
    assert f"sandbox: {mode}, 2 at a time" in err
    grades = {Path(g["notebook"]).stem: g for g in json.loads(out)}
    assert sorted(grades) == sorted(cases)
    assert all(g["sandbox"] == mode for g in grades.values())
    scores = {name: g["total"] for name, g in grades.items()}
    assert scores == {"a_honest": 2, "b_wrong": 0, "c_overwrite": 2, "c_package": 2, "c_solutions": 0,
                      "c_checksfile": 0, "c_lingering": 2, "c_network": 2, "c_signals": 2, "d_honest": 2,
                      "e_wrong": 0}, scores
    listener.close()

    time.sleep(4)           # the detached child would have woken up by now
    assert processes_with(token) == []
    after = tree_hash(subs)
    assert after.pop("grades.csv") != subs_before.pop("grades.csv")
    assert after == subs_before                                # every submission byte-identical
    assert changed_by(token, PACKAGE, package_before) == []    # the package too
    assert changed_by(token, ROOT / "solutions", solutions_before) == []
    rows = table.read_text().splitlines()
    assert rows[0] == "notebook,93.1,total,max" and len(rows) == 1 + len(cases)
    assert not list(subs.glob(".grades.csv.*"))                # the atomic write left no temporary file
    print(f"{len(cases)} notebooks graded in {seconds:.1f} s with -j 2 ({mode})")


def test_weak_mode_grades_from_private_copies_and_ends_every_process(tmp_path, sandboxes):
    """The mode for ordinary users: less protection (see the README), but the same scores, a private
    folder and package copy, and no process left behind."""
    token = str(10**11 + secrets.randbelow(10**11))   # digits: it ends a `sleep` argument
    checks = tmp_path / "checks.py"
    checks.write_text(CHECKS)
    subs = tmp_path / "submissions"
    subs.mkdir()
    listener = socket.create_server(("127.0.0.1", 0))
    attack = attacks(subs, checks, token, delay=30, port=listener.getsockname()[1])
    paths = [notebook(subs / "honest.ipynb", WITH_DATA),
             notebook(subs / "package.ipynb", HONEST,
                      f"import pathlib, course.exercises\n"
                      f"for p in pathlib.Path(course.exercises.__file__).parent.glob('*.py'):\n"
                      f"    p.write_text('raise SystemExit  # {token}')"),
             notebook(subs / "cwd.ipynb", HONEST,
                      "import glob\nfor p in glob.glob('*.ipynb'):\n    open(p, 'w').write('{}')"),
             notebook(subs / "lingering.ipynb", *attack["lingering"]),
             notebook(subs / "network.ipynb", *attack["network"])]
    before, package_before = tree_hash(subs), tree_hash(PACKAGE)
    code, out, err = run_cli("grade", *map(str, paths), "--sandbox", "weak", "-j", "2", "--json",
                             "--checks", str(checks), "--timeout", "30")
    assert processes_with(token) == [] and processes_with(str(sandboxes)) == []
    assert code == 0, err
    assert "sandbox: weak (one notebook at a time" in err
    data = json.loads(out)
    # The last one reached the grader's port: this mode shares the network (see the README).
    assert [g["total"] for g in data] == [2, 2, 2, 2, 0] and {g["sandbox"] for g in data} == {"weak"}
    listener.close()
    assert tree_hash(subs) == before and changed_by(token, PACKAGE, package_before) == []


def test_unknown_sandbox_mode_and_bad_jobs_are_refused(tmp_path, capsys):
    path = notebook(tmp_path / "n.ipynb", HONEST)
    with pytest.raises(SystemExit):
        main(["grade", str(path), "--sandbox", "paper"])
    assert "invalid choice: 'paper'" in capsys.readouterr().err
    code, _, err = run_cli("grade", str(path), "-j", "0")
    assert code == 2 and "-j expects a number of notebooks at a time, 1 or more; got 0" in err


def test_json_file_is_written_atomically_and_text_printed(tmp_path):
    checks = tmp_path / "checks.py"
    checks.write_text(CHECKS)
    path = notebook(tmp_path / "n.ipynb", HONEST)
    target = tmp_path / "grades.json"
    code, out, _ = run_cli("grade", "--json", str(target), str(path), "--checks", str(checks))
    assert code == 0 and "Total: 2/2" in out
    assert json.loads(target.read_text())["total"] == 2
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".grades")] == []


def test_read_back_refuses_links_and_fifos(tmp_path):
    """The grader reads what the sandbox wrote with more rights than the writer had."""
    (tmp_path / "reply.json").write_text('{"ok": 1}')
    assert read_back(tmp_path / "reply.json", 4) == b'{"ok'
    (tmp_path / "link.json").symlink_to(Path(__file__))
    os.mkfifo(tmp_path / "fifo.json")
    for name in ("link.json", "fifo.json", "missing.json"):
        with pytest.raises(OSError):
            read_back(tmp_path / name, 100)


def test_sandbox_ends_when_the_grader_is_killed(tmp_path, sandboxes):
    """A grader that dies without cleaning up (SIGKILL, out of memory) takes its sandbox with it
    (the namespace modes; the weak one only ends the kernel)."""
    import subprocess
    import sys
    isolating_mode = choose_mode()
    if isolating_mode == "weak":
        pytest.skip("no namespace mode works here")
    token = str(10**11 + secrets.randbelow(10**11))
    grader = (f"import os\n"
              f"from course.exercises.kernel import Kernel\n"
              f"from course.exercises.sandbox import Sandbox\n"
              f"kernel = Kernel(sandbox=Sandbox(mode={isolating_mode!r})).start()\n"
              f"out = kernel.run(\"import subprocess\\nsubprocess.Popen(['sleep', '1002.{token}'], "
              f"start_new_session=True)\", 30)\n"
              f"print(out.status, flush=True)\n"
              f"os.kill(os.getpid(), 9)")
    done = subprocess.run([sys.executable, "-c", grader], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.stdout.strip() == "ok" and done.returncode == -9, done.stderr
    deadline = time.monotonic() + 10
    while (processes_with(token) or processes_with(str(sandboxes))) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_with(token) == [] and processes_with(str(sandboxes)) == []


def test_limits_stop_a_runaway_cell_without_stopping_the_grading():
    """Files past the size limit fail to be written; a cell past its CPU time ends its kernel,
    which the grader sees as a crash (and restarts from). Every mode sets limits the same way."""
    from course.exercises.kernel import Kernel
    from course.exercises.sandbox import Limits, Sandbox
    box = Sandbox(limits=Limits(cpu_seconds=3, file_bytes=1 << 20))
    with box, Kernel(sandbox=box) as kernel:
        out = kernel.run("open('big', 'wb').write(b'x' * (2 << 20))", 30)
        assert out.status == "error" and "File too large" in out.error
        assert kernel.run("while True:\n    pass", 60).status == "crashed"
        kernel.restart()
        assert kernel.run("print(6 * 7)", 30).stdout == "42\n"


def test_a_mode_that_cannot_work_is_refused_with_what_it_needs():
    with pytest.raises(SandboxError, match="sandbox mode must be one of auto, namespace, userns, weak; got 'paper'"):
        choose_mode("paper")
    assert choose_mode("weak") == "weak"


def test_a_grading_process_that_dies_costs_no_notebook(tmp_path, sandboxes):
    """A worker of `-j 2` dying (here: a check that ends its process once) breaks its pool; the
    notebooks not yet graded get a fresh one, and the batch still has a result for each."""
    marker = tmp_path / "died-once"
    checks = tmp_path / "checks.py"
    checks.write_text(CHECKS.replace('def _(double):\n', f'def _(double):\n'
                                     f'    import os, pathlib\n'
                                     f'    if not pathlib.Path({str(marker)!r}).exists():\n'
                                     f'        pathlib.Path({str(marker)!r}).write_text("x")\n'
                                     f'        os._exit(3)\n'))
    paths = [notebook(tmp_path / f"n{i}.ipynb", HONEST) for i in range(2)]
    code, out, err = run_cli("grade", *map(str, paths), "-j", "2", "--json", "--checks", str(checks))
    assert marker.exists() and code == 0, err
    assert [g["total"] for g in json.loads(out)] == [2, 2]
    assert processes_with(str(sandboxes)) == []
