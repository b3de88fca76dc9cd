"""MNIST loading, verification and the fast iterator, checked against the published facts."""
import gzip
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import course.data as data
from course.data import mnist as mnist_mod

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist"
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    # Each test gets its own cache (verdicts) and no COURSE_DATA unless it sets one.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("COURSE_DATA", raising=False)
    mnist_mod._memo.clear()


def test_shapes_dtypes_and_class_counts():
    (xtr, ytr), (xte, yte) = data.load_mnist()
    assert xtr.shape == (60000, 28, 28) and xte.shape == (10000, 28, 28)
    assert xtr.dtype == ytr.dtype == torch.uint8
    assert torch.bincount(ytr.long()).tolist() == TRAIN_COUNTS
    assert torch.bincount(yte.long()).tolist() == TEST_COUNTS


def test_bytes_match_the_published_checksums():
    # Independent of our loader: hash the decompressed packaged files directly.
    for name, (md5, _) in data.FILES.items():
        raw = gzip.decompress((mnist_mod._PACKAGED / (name + ".gz")).read_bytes())
        assert hashlib.md5(raw).hexdigest() == md5


def test_same_pixels_as_torchvision_reader(tmp_path):
    torchvision = pytest.importorskip("torchvision")
    _copy_files(tmp_path / "MNIST" / "raw", gz=False)   # torchvision reads decompressed files
    tv = torchvision.datasets.MNIST(str(tmp_path), train=False, download=False)
    (_, _), (xte, yte) = data.load_mnist(tmp_path)
    assert torch.equal(tv.data, xte) and torch.equal(tv.targets, yte.long())


def _copy_files(dst: Path, gz=True):
    dst.mkdir(parents=True, exist_ok=True)
    for f in mnist_mod._PACKAGED.glob("*.gz"):
        if gz:
            shutil.copy(f, dst / f.name)
        else:
            (dst / f.name[:-3]).write_bytes(gzip.decompress(f.read_bytes()))
    return dst


def test_env_var_with_decompressed_files_is_preferred(tmp_path, monkeypatch):
    folder = _copy_files(tmp_path / "mine", gz=False)
    monkeypatch.setenv("COURSE_DATA", str(folder))
    found = data.find_mnist()
    assert found.source == "COURSE_DATA" and found.folder == folder


def test_explicit_path_in_torchvision_layout(tmp_path):
    _copy_files(tmp_path / "tv" / "MNIST" / "raw")
    found = data.find_mnist(tmp_path / "tv")
    assert found.source == "explicit path" and found.folder.name == "raw"


def test_corrupt_file_is_refused_with_a_clear_error(tmp_path, monkeypatch):
    folder = _copy_files(tmp_path / "bad", gz=False)
    target = folder / "t10k-labels-idx1-ubyte"
    raw = bytearray(target.read_bytes())
    raw[100] ^= 0xFF                       # flip one label byte
    target.write_bytes(bytes(raw))
    monkeypatch.setattr(mnist_mod, "_PACKAGED", tmp_path / "nothing")
    with pytest.raises(data.MNISTDataError) as err:
        data.load_mnist(folder)
    msg = str(err.value)
    assert "MD5" in msg and str(folder) in msg and "t10k-labels-idx1-ubyte" in msg
    assert all(name in msg for name in data.FILES)


def test_truncated_gzip_is_refused(tmp_path, monkeypatch):
    folder = _copy_files(tmp_path / "trunc")
    f = folder / "train-images-idx3-ubyte.gz"
    f.write_bytes(f.read_bytes()[:100000])
    monkeypatch.setattr(mnist_mod, "_PACKAGED", tmp_path / "nothing")
    with pytest.raises(data.MNISTDataError, match="truncated"):
        data.load_mnist(folder)


def test_truncated_file_is_refused_even_without_verification(tmp_path, monkeypatch):
    folder = _copy_files(tmp_path / "short", gz=False)
    f = folder / "t10k-images-idx3-ubyte"
    f.write_bytes(f.read_bytes()[:-784])
    monkeypatch.setattr(mnist_mod, "_PACKAGED", tmp_path / "nothing")
    with pytest.raises(data.MNISTDataError, match="truncated"):
        data.load_mnist(folder, verify=False)


def test_missing_everywhere_lists_every_path_tried(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist_mod, "_PACKAGED", tmp_path / "packaged")
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "env"))
    with pytest.raises(data.MNISTDataError) as err:
        data.load_mnist()
    msg = str(err.value)
    for where in ("env", "packaged", "cache"):
        assert where in msg
    assert msg.count("does not exist") == 3
    assert all(name in msg for name in data.FILES)



def test_verdict_is_cached(tmp_path, monkeypatch):
    data.find_mnist()
    calls = []
    monkeypatch.setattr(mnist_mod.hashlib, "md5", lambda b: calls.append(1) or hashlib.md5(b))
    data.find_mnist()
    assert calls == []


def test_dataset_matches_tensors_and_works_with_transforms():
    from torchvision import transforms
    ds = data.MNIST(train=False, transform=transforms.ToTensor())
    img, label = ds[3]
    (_, _), (xte, yte) = data.load_mnist()
    assert len(ds) == 10000 and img.shape == (1, 28, 28) and label == int(yte[3])
    assert torch.allclose(img[0], xte[3].float() / 255)


def test_fast_batches_cover_every_sample_once_and_are_seeded():
    x = torch.arange(100, dtype=torch.uint8).reshape(100, 1)
    y = torch.arange(100)
    b1 = list(data.batches(x, y, 32, seed=5, device="cpu"))
    b2 = list(data.batches(x, y, 32, seed=5, device="cpu"))
    assert [len(yb) for _, yb in b1] == [32, 32, 32, 4]
    seen = torch.cat([yb for _, yb in b1])
    assert sorted(seen.tolist()) == list(range(100))
    assert all(torch.equal(a[1], b[1]) for a, b in zip(b1, b2))
    xb, yb = b1[0]
    assert xb.dtype == torch.float32 and torch.allclose(xb[:, 0], yb.float() / 255)


def test_batches_reshuffle_each_epoch_and_refuse_mismatched_lengths():
    it = data.batches(torch.zeros(64, 2), torch.arange(64), 64, device="cpu")
    first, second = next(iter(it))[1], next(iter(it))[1]
    assert not torch.equal(first, second)
    with pytest.raises(ValueError, match="same length"):
        data.batches(torch.zeros(3, 2), torch.zeros(4))


def test_toy_sets_match_the_tutorial():
    X, Y = data.sum_below_one()
    ref = np.random.RandomState(1).rand(128, 2)
    assert np.array_equal(X, ref)
    assert Y.tolist() == [[int(a + b < 1)] for a, b in ref]
    Xr, yr, (w, b) = data.regression(50, 3)
    assert Xr.shape == (50, 3) and yr.shape == (50, 1) and Xr.dtype == np.float32


# -- hostile and careless data folders ------------------------------------------------------------------
def test_rewritten_file_with_restored_mtime_is_caught(tmp_path, monkeypatch):
    import os
    folder = _copy_files(tmp_path / "mine", gz=False)
    data.find_mnist(folder)                                  # verdict cached
    target = folder / "t10k-images-idx3-ubyte"
    st = target.stat()
    raw = bytearray(target.read_bytes())
    raw[16:16 + 784] = b"\xff" * 784                         # one image overwritten, size kept
    target.write_bytes(bytes(raw))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))     # and the mtime put back
    with pytest.raises(data.MNISTDataError, match="t10k-images-idx3-ubyte: MD5 of the decompressed bytes"):
        data.find_mnist(folder)
    mnist_mod._memo.clear()
    monkeypatch.setattr(mnist_mod, "_verify", lambda found: None)    # even with a stale verdict: the bytes
    with pytest.raises(data.MNISTDataError, match="MD5"):           # parsed are the bytes hashed
        data.load_mnist(folder)


@pytest.mark.parametrize("case", ["missing", "incomplete", "corrupt", "a file"])
def test_explicit_root_is_used_or_refused_never_replaced(tmp_path, case):
    root = tmp_path / "mine"
    if case == "missing":
        expected = "does not exist"
    elif case == "incomplete":
        _copy_files(root)
        (root / "t10k-labels-idx1-ubyte.gz").unlink()
        expected = "holds 3 of the 4 files; missing: t10k-labels-idx1-ubyte"
    elif case == "corrupt":
        _copy_files(root)
        (root / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"junk"))
        expected = "train-labels-idx1-ubyte.gz: MD5"
    else:
        root.write_bytes(b"not a folder")
        expected = "is a file, not a folder"
    with pytest.raises(data.MNISTDataError, match=expected) as err:
        data.load_mnist(root)                        # the packaged copy exists, and is not used instead
    assert "packaged copy" not in str(err.value) and str(root) in str(err.value)


def test_unusable_course_data_falls_back_with_a_warning_that_says_why(tmp_path, monkeypatch):
    folder = _copy_files(tmp_path / "env")
    (folder / "train-images-idx3-ubyte.gz").unlink()
    monkeypatch.setenv("COURSE_DATA", str(folder))
    with pytest.warns(UserWarning, match=r"COURSE_DATA=.*is not usable \(.*missing: train-images-idx3-ubyte.*\); "
                                         r"using MNIST from .*packaged copy"):
        found = data.find_mnist()
    assert found.source == "packaged copy"


def test_permission_denied_is_not_called_truncated(tmp_path, monkeypatch):
    folder = _copy_files(tmp_path / "locked")
    real_open = gzip.open

    def denied(path, *args, **kwargs):
        if "train-labels" in str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)
    monkeypatch.setattr(gzip, "open", denied)
    with pytest.raises(data.MNISTDataError, match="train-labels-idx1-ubyte.gz: permission denied; make it "
                                                  r"readable \(chmod a\+r\)") as err:
        data.load_mnist(folder)
    assert "truncated" not in str(err.value)


def test_unreadable_folder_does_not_stop_the_search(tmp_path, monkeypatch):
    from pathlib import Path
    locked = tmp_path / "locked"
    locked.mkdir()
    monkeypatch.setenv("COURSE_DATA", str(locked))
    real_is_file = Path.is_file

    def is_file(self):
        if str(self).startswith(str(locked)):
            raise PermissionError(13, "Permission denied", str(self))
        return real_is_file(self)
    monkeypatch.setattr(Path, "is_file", is_file)
    with pytest.warns(UserWarning, match="permission denied"):
        found = data.find_mnist()
    assert found.source == "packaged copy"
