"""Device choice, seeding, fast mode and `course info`."""
import os
import random
import subprocess
import sys

import numpy as np
import pytest
import torch

import course.config
import course.device


def test_default_device_is_the_best_available():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available() and "mps" in course.device.available():
        expected = "mps"
    assert course.device.get().type == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_asking_for_cuda_without_a_gpu_says_what_is_available():
    with pytest.raises(course.device.DeviceError, match="no CUDA GPU.*Available: \\['cpu'\\]"):
        course.device.get("cuda")


def test_unknown_device_is_a_clear_error():
    with pytest.raises(course.device.DeviceError, match="Unknown device 'tpu'"):
        course.device.get("tpu")


def test_seed_makes_all_three_generators_repeat():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()
    course.device.seed(7)
    a = draw()
    course.device.seed(7)
    assert draw() == a


def test_describe_is_one_line():
    text = course.device.describe()
    assert "\n" not in text and text.split()[0].startswith(course.device.get().type)


def test_deterministic_switch_round_trips():
    course.device.deterministic(True)
    assert torch.are_deterministic_algorithms_enabled()
    course.device.deterministic(False)
    assert not torch.are_deterministic_algorithms_enabled()


@pytest.mark.parametrize("value,expected", [("", False), ("0", False), ("1", True), ("yes", True), ("false", False)])
def test_fast_mode_reads_one_variable(monkeypatch, value, expected):
    monkeypatch.setenv("COURSE_FAST", value)
    assert course.config.fast_mode() is expected


def _course(*args, env=None):
    return subprocess.run([sys.executable, "-m", "course.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def test_info_reports_versions_device_and_verified_data():
    out = _course("info")
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"torch        {torch.__version__}" in out.stdout
    assert "MD5 checksums: OK" in out.stdout and "device" in out.stdout
    from importlib.metadata import version
    assert f"tensorboard  {version('tensorboard')}" in out.stdout          # the test extra installs it


def test_info_exits_nonzero_when_data_is_missing(tmp_path):
    # Hide the packaged copy by pointing the package at an empty folder through a sitecustomize shim.
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(
        "import pathlib, course.data.mnist as m\nm._PACKAGED = pathlib.Path('does-not-exist')\n")
    out = _course("info", env={"PYTHONPATH": str(shim), "XDG_CACHE_HOME": str(tmp_path / "c"),
                               "COURSE_DATA": str(tmp_path / "none")})
    assert out.returncode == 1
    assert "MISSING" in out.stdout and "train-images-idx3-ubyte" in out.stdout


@pytest.mark.cuda
def test_cuda_batches_live_on_the_gpu():
    from course.data import batches
    xb, yb = next(iter(batches(torch.zeros(10, 2, dtype=torch.uint8), torch.arange(10), 4, device="cuda")))
    assert xb.is_cuda and yb.is_cuda


def _announce_in_a_fresh_process(code):
    prog = "import course.device\n" + code + "\ncourse.device.announce()\n"
    return subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COURSE_DEVICE": "cpu"})


def test_scripts_get_the_device_line_on_stderr():
    out = _announce_in_a_fresh_process("")
    assert out.stdout == "" and out.stderr.startswith("course: using cpu")


def test_a_notebook_kernel_gets_the_device_line_on_stdout():
    # A real ipykernel: the line must arrive as a "stream" message named stdout, not stderr.
    jupyter_client = pytest.importorskip("jupyter_client")
    km, kc = jupyter_client.manager.start_new_kernel(kernel_name="python3",
                                                     env={**os.environ, "COURSE_DEVICE": "cpu"})
    try:
        msg_id = kc.execute("import course.device\ncourse.device.announce()")
        streams = []
        while True:
            msg = kc.get_iopub_msg(timeout=60)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                streams.append((msg["content"]["name"], msg["content"]["text"]))
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert [name for name, text in streams if "course: using cpu" in text] == ["stdout"], streams


def test_an_explicit_stream_wins(capsys):
    course.device.set_default(None)
    course.device.announce(stream=sys.stdout)
    course.device.set_default(None)
    assert capsys.readouterr().out.startswith("course: using")
