"""course.export: the trained seed000 CNN, exported with torch.export, reloads in a FRESH process
that imports torch only, and gives the original model's outputs; ONNX when onnx is installed."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import course.export as export
from course.apps.train import build_model

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def trained():
    """The seed CNN after a few Adam steps on 256 MNIST images, and 20 test images."""
    import course.data
    course.device.seed(0)
    (x, y), (xt, _) = course.data.load_mnist()
    x = (x[:256].reshape(-1, 784).float() / 255).numpy()
    model = build_model("cnn-large")   # seed000's CNN
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y[:256].numpy(), batch_size=64, epochs=1, verbose=0)
    return model, (xt[:20].reshape(-1, 784).float() / 255)


def _original(model, x):
    return model(x).numpy()                       # Keras inference: Dropout off


FRESH = textwrap.dedent("""
    import json, sys
    import numpy as np
    import torch
    program = torch.export.load(sys.argv[1])
    x = torch.from_numpy(np.load(sys.argv[2]))
    y = program.module()(x)
    np.save(sys.argv[3], y.detach().numpy())
    print(json.dumps({"course_imported": any(m == "course" or m.startswith("course.") for m in sys.modules),
                      "shape": list(y.shape)}))
""")


def test_exported_cnn_runs_in_a_fresh_process_without_the_training_code(trained, tmp_path):
    model, x = trained
    path = export.save(model, tmp_path / "seed000.pt2", x[:4])       # traced on 4 images
    np.save(tmp_path / "x.npy", x.numpy())                            # run on 20: the batch is dynamic
    script = tmp_path / "serve.py"
    script.write_text(FRESH)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("PYTHONPATH", None)
    done = subprocess.run([sys.executable, str(script), str(path), str(tmp_path / "x.npy"), str(tmp_path / "y.npy")],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"course_imported": False, "shape": [20, 10]}
    got = np.load(tmp_path / "y.npy")
    want = _original(model, x)
    assert np.abs(got - want).max() <= 1e-5
    assert (got.argmax(1) == want.argmax(1)).all()


def test_export_leaves_the_model_alone_and_copies_its_weights(trained):
    model, x = trained
    kinds = [type(p) for p in model.parameters()]
    program = export.export(model, x[:2])
    assert [type(p) for p in model.parameters()] == kinds                 # the Variables are back
    before = program.module()(x).detach().clone()
    with torch.no_grad():
        model.layers[-1].kernel[:, 0].add_(1.0)                            # later training ...
    try:
        assert torch.equal(program.module()(x), before)                    # ... does not reach the export
        assert export.max_abs_diff(program.module()(x), _original(model, x)) > 1e-3
    finally:
        with torch.no_grad():
            model.layers[-1].kernel[:, 0].sub_(1.0)
    assert export.max_abs_diff(program.module()(x), _original(model, x)) <= 1e-5


def test_plain_torch_modules_export_too(tmp_path):
    net = torch.nn.Sequential(torch.nn.Linear(5, 3), torch.nn.Tanh())
    x = torch.randn(6, 5)
    module = export.load(export.save(export.export(net, x), tmp_path / "net.pt2"))
    assert export.max_abs_diff(module(x), net(x)) <= 1e-6


def test_errors_say_what_to_do(trained, tmp_path):
    model, x = trained
    with pytest.raises(ValueError, match="at least 2 samples"):
        export.export(model, x[:1])
    with pytest.raises(ValueError, match="needs an example batch"):
        export.save(model, tmp_path / "m.pt2")
    with pytest.raises(FileNotFoundError, match="course.export.save"):
        export.load(tmp_path / "missing.pt2")
    if not export.onnx_available():
        with pytest.raises(ImportError, match="pip install onnx onnxscript"):
            export.to_onnx(model, tmp_path / "m.onnx", x[:4])


def test_onnx_export_matches(trained, tmp_path):
    if not export.onnx_available():
        pytest.skip("onnx/onnxscript are not installed (ONNX export is optional)")
    ort = pytest.importorskip("onnxruntime")
    model, x = trained
    path = export.to_onnx(model, tmp_path / "seed000.onnx", x[:4])
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"x": x.numpy()})[0]
    assert got.shape == (20, 10)
    assert np.abs(got - _original(model, x)).max() <= 1e-5
