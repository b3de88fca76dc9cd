"""keras.utils.image_dataset_from_directory / text_dataset_from_directory against Keras 3 on a local folder:
messages, class names, element_spec, order (shuffle=False), values, and validation splits."""
import contextlib
import io
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity

from course.tf import keras as ckeras  # noqa: E402


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    from PIL import Image
    root = tmp_path_factory.mktemp("dirs")
    rng = np.random.default_rng(0)
    for c in ("cats", "dogs"):
        (root / "img" / c).mkdir(parents=True)
        for i in range(3):
            Image.fromarray((rng.random((6 + i, 5, 3)) * 255).astype(np.uint8)).save(root / "img" / c / f"{i}.png")
    for c in ("neg", "pos"):
        (root / "txt" / c).mkdir(parents=True)
        for i in range(3):
            (root / "txt" / c / f"{i}.txt").write_text(f"{c} text number {i}")
    return str(root)


def _run(k, root):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ds = k.utils.image_dataset_from_directory(os.path.join(root, "img"), image_size=(4, 4), batch_size=4,
                                                  shuffle=False)
        batches = [(np.asarray(x), np.asarray(y)) for x, y in ds]
        tr = k.utils.image_dataset_from_directory(os.path.join(root, "img"), image_size=(4, 4),
                                                  validation_split=0.34, subset="training", seed=1)
        va = k.utils.image_dataset_from_directory(os.path.join(root, "img"), image_size=(4, 4),
                                                  validation_split=0.34, subset="validation", seed=1)
        sizes = (sum(int(np.asarray(y).shape[0]) for _, y in tr), sum(int(np.asarray(y).shape[0]) for _, y in va))
        tr_files, va_files = sorted(tr.file_paths), sorted(va.file_paths)
        t = k.utils.text_dataset_from_directory(os.path.join(root, "txt"), batch_size=2, shuffle=False)
        texts = [(np.asarray(x).tolist(), np.asarray(y).tolist()) for x, y in t]
        c = k.utils.image_dataset_from_directory(os.path.join(root, "img"), image_size=(4, 4),
                                                 label_mode="categorical", color_mode="grayscale", shuffle=False,
                                                 batch_size=None)
        first = [np.asarray(v) for v in next(iter(c))]
    return (out.getvalue(), repr(ds), ds.class_names, batches, sizes, tr_files, va_files, repr(t), t.class_names,
            texts, repr(c), first)


def test_directory_datasets_as_keras(folders):
    ref, got = _run(keras, folders), _run(ckeras, folders)
    for k in (0, 1, 2, 4, 5, 6, 7, 8, 9, 10):
        assert got[k] == ref[k], k
    for (gx, gy), (rx, ry) in zip(got[3], ref[3]):
        np.testing.assert_allclose(gx, rx, atol=1e-4)
        np.testing.assert_array_equal(gy, ry)
    for g, r in zip(got[11], ref[11]):
        np.testing.assert_allclose(g, r, atol=1e-4)
