"""Every benchmark still runs end to end (tiny sizes; the figures themselves come from full runs)."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HAVE_TF = importlib.util.find_spec("tensorflow") is not None

RUNS = {
    "bench_data": ["--repeats", "1"],
    "bench_adam": ["--repeats", "1", "--steps", "1"],
    # Real Keras here would start TensorFlow worker processes (about 100 s): that run is in the slow tier.
    "bench_fit": ["--models", "mlp,cnn,cnn-large", "--batches", "2", "--repeats", "1", "--threads", "1",
                  "--no-keras", "--before", str(ROOT)],
    "bench_graph_kernels": ["--repeats", "1", "--no-tf"],
    # --before with this same checkout: the before/after contender runs too
    "bench_graph": ["--steps", "20", "--block", "10", "--cnn-steps", "1", "--cnn-repeats", "1", "--no-tf",
                    "--before", str(ROOT)],
    "bench_compress": ["--fast"],
    "bench_distill_seeds": ["--fast"],
    "bench_tensorboard": ["--batches", "4", "--repeats", "1"],
    "bench_function": ["--steps", "3", "--batch", "20", "--threads", "1"],
    "bench_syncs": ["--models", "mlp", "--steps", "3"],
    "bench_memory": ["--model", "mlp", "--limit", "500"],
}
EXPECT = {                                   # a line each run must print: the table it exists for
    "bench_data": "ratio",
    "bench_adam": "ratio",
    "bench_fit": "before -> ours",
    "bench_graph": "ours (before)",
    "bench_graph_kernels": "six kernels",
    "bench_compress": "int8",
    "bench_distill_seeds": "mean gain",
    "bench_tensorboard": "batch",
    "bench_function": "ratio",
    "bench_syncs": "syncs per step",
    "bench_memory": "goal fit - bare",
}


def _run(name, args, cwd):
    env = {**os.environ, "COURSE_FAST": "1", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / f"{name}.py"), *args], cwd=cwd,
                         env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


@pytest.mark.parametrize("name", sorted(RUNS))
def test_benchmark_runs(name, tmp_path):
    out = _run(name, RUNS[name], tmp_path)
    assert EXPECT[name] in out, out[-3000:]


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_TF, reason="needs tensorflow")
def test_fit_benchmark_against_real_keras_runs(tmp_path):
    out = _run("bench_fit", ["--models", "mlp", "--batches", "2", "--repeats", "1", "--threads", "1"], tmp_path)
    assert "keras_onednn" in out, out[-3000:]
