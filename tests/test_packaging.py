"""pyproject.toml, environment.yml, README and CI stay in step."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names the torch package differently from PyPI
CONDA_NAMES = {"torch": "pytorch"}
# conda-only packages (no PyPI counterpart): a CJK font for the Chinese headings
CONDA_ONLY = {"font-ttf-noto-cjk"}


def _name_and_spec(req):
    m = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", req)
    return m.group(1).lower(), m.group(2).replace(" ", "")


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _conda_requirements():
    text = (ROOT / "environment.yml").read_text().split("dependencies:", 1)[1]
    return [line.strip()[2:].strip() for line in text.splitlines()
            if line.strip().startswith("- ") and not line.strip().startswith("- pip:") and "-e ." not in line]


def test_environment_yml_names_the_same_dependencies_as_pyproject():
    project = _pyproject()
    wanted = {}
    for req in project["dependencies"] + sum(project["optional-dependencies"].values(), []):
        name, spec = _name_and_spec(req)
        wanted[CONDA_NAMES.get(name, name)] = spec
    conda = dict(_name_and_spec(r) for r in _conda_requirements())
    conda.pop("python"), conda.pop("pip")
    for name in CONDA_ONLY:
        conda.pop(name)
    assert conda == wanted


def test_ranges_admit_the_gpu_machines_torch_and_python():
    project = _pyproject()
    assert project["requires-python"] == ">=3.10"
    torch_spec = dict(_name_and_spec(r) for r in project["dependencies"])["torch"]
    assert torch_spec.startswith(">=") and "==" not in torch_spec
    assert tuple(int(p) for p in torch_spec[2:].split(".")) <= (2, 11)


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = [line.strip() for line in block.splitlines() if line.strip().startswith(("pip ", "python "))]
    assert len(commands) == 2, commands
    ci = (ROOT / ".ci" / "run").read_text()
    # CI runs the install and the test run as separate, separately timed steps: each part must be there.
    steps = [line.strip() for line in ci.splitlines() if not line.lstrip().startswith("#")]
    for part in commands[1].split(" && "):
        assert any(step.endswith(part) or f" {part}" in step for step in steps), part
