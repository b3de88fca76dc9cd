"""Checks for lesson 13, saving and loading: a .keras round trip, an atomic save, and a PyTorch
checkpoint that saves and resumes (model, optimizer, epoch).

The references are independent of the learner's code: the round trip is checked against a loaded
model whose weights the check perturbs on purpose (so the returned difference must come from the
loaded model's predictions); the atomic save against the folder's contents and the bytes of the
target after a failing write; the checkpoints against `torch.load(weights_only=True)`, against one
more optimizer step taken by the original objects, and against a file that runs code when unpickled.
"""
import io
import posixpath

import numpy as np
import torch

from course.exercises.expect import CheckFailure, describe, expect
from course.exercises.fixtures import Fixture, mark_unpickled, probe
from course.exercises.registry import exercise
from course.exercises.remote import MISSING, LearnerError, current

__all__ = []


def _folder() -> str:
    """A new empty folder on the learner's side (files are written and read there)."""
    return current().make(Fixture("tmp_folder"), keep=False)


def _read(path):
    data = current().read_file(path)
    return None if data is MISSING else data


# -- 13.1 ---------------------------------------------------------------------------------------

@exercise("13.1", name="roundtrip_max_diff", points=2)
def _check_roundtrip_max_diff(roundtrip_max_diff):
    """Saves to `path`, reloads with load_model, returns max |model(x) - loaded(x)| from the loaded model."""
    folder = _folder()
    what = "roundtrip_max_diff(model, x, path)"
    for perturb in (False, True):
        r = probe("probe_roundtrip", roundtrip_max_diff, folder, perturb)
        expect(r["file"], f"{what}: no file was written at `path`; save with model.save(path).")
        expect(r["loaded"], f"{what}: the file was never loaded back; use tf.keras.models.load_model(path).")
        got = r["got"]
        try:
            value = float(got)
        except (TypeError, ValueError):
            raise CheckFailure(f"{what}: expected a float, got {describe(got)}.") from None
        expected = float(np.abs(np.asarray(r["original"], dtype=np.float64)
                                - np.asarray(r["reloaded"], dtype=np.float64)).max())
        if perturb:
            expect(abs(value - expected) < 1e-5 + 1e-4 * expected,
                   f"{what}: the check changed the loaded model's first kernel by +0.5, so the predictions "
                   f"differ by up to {expected:.4g}; you returned {value:.4g}. Compare model.predict(x) with "
                   f"the LOADED model's predict(x), and return the largest absolute difference.")
        else:
            expect(abs(value) < 1e-6, f"{what}: a correct save and load gives 0.0; got {value:.4g}.")
        expect(r["weights_same"], "roundtrip_max_diff changed the original model's weights; only save and compare.")


# -- 13.2 ---------------------------------------------------------------------------------------

@exercise("13.2", name="atomic_save", points=2)
def _check_atomic_save(atomic_save):
    """write(tmp) next to `path`, then os.replace; on failure `path` is untouched and nothing is left over."""
    t = current()
    folder = posixpath.join(_folder(), "checkpoints")
    t.make(Fixture("make_folder", folder), keep=False)
    path = posixpath.join(folder, "model.keras")
    write_new = t.make(Fixture("writer", b"new model"))
    atomic_save(path, write_new)
    given = write_new.given
    expect(len(given) == 1, f"atomic_save(path, write) called write {len(given)} times; call it once.")
    tmp = posixpath.normpath(given[0])
    if tmp == posixpath.normpath(path):
        raise CheckFailure("atomic_save(path, write) passed `path` itself to write; a crash during the write "
                           "would then destroy the old file. Pass a temporary path and os.replace it onto "
                           "`path` afterwards.")
    if posixpath.dirname(tmp) != folder:
        raise CheckFailure(f"atomic_save(path, write): the temporary file was in {posixpath.dirname(tmp)!r}, not in "
                           f"the folder of `path`; os.replace is atomic only within one file system, so create "
                           f"it next to the target: tempfile.mkstemp(dir=os.path.dirname(path)).")
    expect(_read(path) == b"new model",
           "atomic_save(path, write): after a successful write, `path` should hold what write wrote.")
    left = sorted(t.listdir(folder))
    expect(left == ["model.keras"],
           f"atomic_save(path, write): files left in the folder: {left}; only the target "
           f"should remain (os.replace moves the temporary file, it does not copy it).")

    try:
        atomic_save(path, Fixture("writer", b"half a mod", crash=True))
    except LearnerError as exc:
        if exc.remote_type != "PowerCut":
            raise
    else:
        raise CheckFailure("atomic_save(path, write) swallowed the exception raised by write; clean up, then "
                           "let it propagate (`raise`) so that the caller knows the save failed.")
    expect(_read(path) == b"new model",
           "atomic_save(path, write) with a write that fails halfway: `path` changed; the old file must stay "
           "exactly as it was until the new one is complete.")
    left = sorted(t.listdir(folder))
    expect(left == ["model.keras"],
           f"atomic_save(path, write) with a write that fails: files left behind: {left}; "
           f"delete the temporary file before re-raising.")

    fresh = posixpath.join(folder, "weights.bin")
    atomic_save(fresh, Fixture("writer", b"new model"))
    expect(t.exists(fresh), "atomic_save(path, write) for a path that does not exist yet wrote nothing.")


# -- 13.3 and 13.4 -------------------------------------------------------------------------------

def _net_and_opt(seed):
    """A network and its Adam optimizer on the learner's side (handles)."""
    pair = current().make(Fixture("torch_net_and_opt", seed))
    return pair[0], pair[1]


def _steps(net, opt, n, seed):
    probe("probe_torch_steps", net, opt, n, seed)


def _load_plain(data: bytes):
    """A checkpoint's bytes -> its contents, rebuilding only tensors and plain containers (never code)."""
    return torch.load(io.BytesIO(data), weights_only=True)


def _same_state(a, b):
    """Equal nested optimizer/model states (tensors compared exactly)."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and torch.equal(a.cpu(), b.cpu())
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_state(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same_state(x, y) for x, y in zip(a, b))
    return a == b


@exercise("13.3", name="save_checkpoint", points=2)
def _check_save_checkpoint(save_checkpoint):
    """torch.save({'epoch': int, 'model': state_dict, 'optimizer': state_dict}), loadable with weights_only."""
    net, opt = _net_and_opt(0)
    _steps(net, opt, 3, seed=1)
    model_state, opt_state = net.state_dict(), opt.state_dict()
    path = posixpath.join(_folder(), "ckpt.pt")
    save_checkpoint(path, net, opt, 7)
    data = _read(path)
    expect(data is not None, "save_checkpoint(path, model, optimizer, 7) wrote no file at `path`.")
    try:
        saved = _load_plain(data)
    except Exception as exc:
        raise CheckFailure(f"save_checkpoint wrote a file that torch.load(path, weights_only=True) refuses "
                           f"({type(exc).__name__}: {str(exc).splitlines()[0][:160]}). Save state dicts "
                           f"(model.state_dict(), optimizer.state_dict()) and an int, not the objects "
                           f"themselves.") from None
    expect(isinstance(saved, dict), f"save_checkpoint: the file holds {describe(saved)}; save a dict.")
    missing = [k for k in ("epoch", "model", "optimizer") if k not in saved]
    expect(not missing, f"save_checkpoint: the saved dict lacks {missing} (it has {sorted(saved)}).")
    expect(saved["epoch"] == 7 and isinstance(saved["epoch"], int),
           f"save_checkpoint(path, model, optimizer, 7): 'epoch' should be the int 7, got {describe(saved['epoch'])}.")
    expect(_same_state(saved["model"], model_state),
           "save_checkpoint: 'model' is not the model's state_dict() (parameter names to tensors).")
    expect(_same_state(saved["optimizer"], opt_state),
           "save_checkpoint: 'optimizer' is not the optimizer's state_dict() (Adam's state and param_groups).")
    expect(_same_state(net.state_dict(), model_state), "save_checkpoint changed the model; it should only save it.")


class _Payload:
    """Runs `mark_unpickled` on the learner's side if the file holding it is unpickled unsafely."""

    def __reduce__(self):
        return (mark_unpickled, ())


def _parameters(net) -> list:
    return [p for p in net.parameters()]


@exercise("13.4", name="load_checkpoint", points=2)
def _check_load_checkpoint(load_checkpoint):
    """Restores model and optimizer in place (one more step matches the original), returns the epoch,
    and never unpickles arbitrary objects."""
    t = current()
    original, original_opt = _net_and_opt(0)
    _steps(original, original_opt, 3, seed=1)
    folder = _folder()
    state = {"epoch": 3, "model": original.state_dict(), "optimizer": original_opt.state_dict()}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    path = t.make(Fixture("write_bytes", posixpath.join(folder, "ckpt.pt"), buffer.getvalue()), keep=False)
    net, opt = _net_and_opt(99)                                   # different initial weights
    got = load_checkpoint(path, net, opt)
    expect(isinstance(got, int) and not isinstance(got, bool) and got == 3,
           f"load_checkpoint(path, model, optimizer) for a checkpoint saved with epoch 3 should return 3, "
           f"got {describe(got)}.")
    expect(_same_state(net.state_dict(), original.state_dict()),
           "load_checkpoint: the model's weights are not those of the checkpoint; use "
           "model.load_state_dict(checkpoint['model']).")
    _steps(original, original_opt, 1, seed=2)
    _steps(net, opt, 1, seed=2)
    if not all(isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and torch.equal(a, b)
               for a, b in zip(_parameters(original), _parameters(net))):
        raise CheckFailure("load_checkpoint: after loading, one more Adam step differs from the original run: "
                           "the optimizer's state (moments and step count) was not restored; use "
                           "optimizer.load_state_dict(checkpoint['optimizer']).")

    buffer = io.BytesIO()
    torch.save({**state, "epoch": 1, "note": _Payload()}, buffer)
    unsafe = t.make(Fixture("write_bytes", posixpath.join(folder, "unsafe.pt"), buffer.getvalue()), keep=False)
    t.make(Fixture("unpickled_count"), keep=False)
    net, opt = _net_and_opt(5)
    try:
        load_checkpoint(unsafe, net, opt)
    except LearnerError:
        pass                                                      # refusing the file is right
    if t.make(Fixture("unpickled_count"), keep=False):
        raise CheckFailure("load_checkpoint ran code stored in the file (a pickled object's __reduce__): "
                           "load with torch.load(path, weights_only=True), which only rebuilds tensors and "
                           "plain containers.")
