"""`course train` end to end in a subprocess (COURSE_FAST=1: a data subset and one epoch)."""
import csv
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def course(*args, fast=True, cwd=None, timeout=600):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               COURSE_FAST="1" if fast else "0")
    env.setdefault("OMP_NUM_THREADS", "1")      # shared CI cores: oversubscribed OpenMP threads spin for ages
    return subprocess.run([sys.executable, "-m", "course.cli", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, env=env, timeout=timeout)


def test_train_mlp_writes_model_history_and_plot(tmp_path):
    out_dir = tmp_path / "run"
    proc = course("train", "--model", "mlp", "--output", str(out_dir), "--seed", "1", "--tensorboard")
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert re.fullmatch(r"Test accuracy: 0\.\d{4}", lines[-1]), lines[-3:]
    assert float(lines[-1].split()[-1]) > 0.7
    assert "Epoch 1/1" in proc.stdout
    assert (proc.stdout + proc.stderr).count("cpu (") == 1, proc.stdout       # the device named once
    for name in ("model.keras", "history.csv", "history.png"):
        assert (out_dir / name).stat().st_size > 0, name
    rows = list(csv.DictReader(open(out_dir / "history.csv")))
    assert len(rows) == 1 and {"epoch", "loss", "accuracy"} <= set(rows[0])
    assert (out_dir / "history.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from course.summary import read
    logged = [(r.run, r.step, r.value) for r in read(str(out_dir / "logs")) if r.tag == "epoch_loss"]
    assert logged == [("train", 0, pytest.approx(float(rows[0]["loss"]), rel=1e-5))]      # TensorBoard = CSV
    from course.tf import keras
    from course.data import load_mnist_numpy
    model = keras.models.load_model(str(out_dir / "model.keras"))
    _, (x, y) = load_mnist_numpy()
    acc = (model.predict(x[:1000] / 255.0, verbose=0).argmax(1) == y[:1000]).mean()
    assert abs(acc - float(lines[-1].split()[-1])) < 1e-3           # the saved model is the one evaluated


def test_train_default_output_folder(tmp_path):
    proc = course("train", "--model", "mlp", "--limit", "500", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1 and re.fullmatch(r"mlp-\d{8}-\d{6}", runs[0].name)


def test_train_rejects_bad_arguments():
    proc = course("train", "--model", "resnet")
    assert proc.returncode != 0 and "invalid choice" in proc.stderr
    proc = course("train", "--epochs", "0")
    assert proc.returncode != 0 and "--epochs must be a positive integer" in (proc.stderr + proc.stdout)


def test_train_help_is_quick_complete_and_shows_defaults():
    code = ("import sys, contextlib, io\n"
            "from course.cli import main\n"
            "out = io.StringIO()\n"
            "with contextlib.redirect_stdout(out):\n"
            "    try:\n"
            "        main(['train', '--help'])\n"
            "    except SystemExit:\n"
            "        pass\n"
            "print(out.getvalue())\n"
            "print('TORCH IMPORTED', 'torch' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "TORCH IMPORTED False" in text                         # --help does not load torch (seconds)
    assert text.count("usage:") == 1 and text.count("course train") == 1
    for option in ("--model", "--epochs", "--batch-size", "--device", "--seed", "--output", "--limit",
                   "--tensorboard", "--nproc"):
        assert option in text, option
    assert "mlp 5, cnn 5, cnn-large 10" in text and "mlp 32, cnn 32, cnn-large 100" in text


def test_python_dash_m_course_is_the_course_command():
    proc = subprocess.run([sys.executable, "-m", "course", "train", "--help"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: course train")


def test_one_cycle_schedule_matches_torch_one_cycle_lr():
    import torch
    from course.apps.speed import OneCycle
    for total, pct in ((354, 0.25), (10, 0.3), (3, 0.5)):
        w = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([w], lr=0.1)
        ref = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.005, total_steps=total, pct_start=pct)
        ours = OneCycle(0.005, total, pct_start=pct)
        for t in range(total):
            assert ours(t) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12, abs=1e-15), (total, pct, t)
            opt.step()
            if t < total - 1:
                ref.step()
        assert ours(total + 5) == ours(total - 1)                # past the end: the last value


def test_speed_model_times_training_and_its_warm_up_leaves_the_timed_run_unchanged(tmp_path):
    runs = {}
    for warmup in ("0", "3"):
        out_dir = tmp_path / f"w{warmup}"
        proc = course("train", "--model", "speed", "--output", str(out_dir), "--seed", "3", "--warmup", warmup)
        assert proc.returncode == 0, proc.stderr[-3000:]
        lines = proc.stdout.strip().splitlines()
        assert ("Warm-up: 3 step(s)" in proc.stdout) == (warmup == "3")
        timed = [line for line in lines if line.startswith("Train time: ")]
        assert len(timed) == 1 and re.match(r"Train time: \d+\.\d{3} s \(4 steps", timed[0]), timed
        correct = re.search(r"^Test images correct: ([\d,]+) of 1,000$", proc.stdout, re.M)
        acc = float(lines[-1].split()[-1])
        assert correct and int(correct.group(1).replace(",", "")) == round(acc * 1000)
        runs[warmup] = (acc, (out_dir / "history.csv").read_text())
    assert runs["0"] == runs["3"]          # the throw-away model's steps do not touch the timed model


@pytest.mark.cuda
def test_fit_steps_on_cuda_make_no_host_device_synchronisation():
    import warnings
    import torch
    import course.device
    from course.apps.speed import build_speed_model, compile_speed

    def syncs(action):
        """Synchronising CUDA calls made by action(), as torch's sync debug mode reports them."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")
            try:
                action()
            finally:
                torch.cuda.set_sync_debug_mode("default")
        return sum("synchroniz" in str(w.message) for w in caught)

    assert syncs(lambda: torch.ones(1, device="cuda").item()) >= 1      # the probe sees a known sync
    course.device.set_default("cuda")
    try:
        x = torch.rand(40 * 64, 28, 28, device="cuda")
        y = torch.arange(40 * 64, device="cuda") % 10
        model = compile_speed(build_speed_model(), 40, 1)
        fit = lambda n: model.fit(x[:n * 64], y[:n * 64], batch_size=64, epochs=1, verbose=0)   # noqa: E731
        fit(2)                                                           # builds the model
        assert syncs(lambda: fit(40)) == syncs(lambda: fit(2))         # per-fit syncs only, none per step
    finally:
        course.device.set_default(None)
