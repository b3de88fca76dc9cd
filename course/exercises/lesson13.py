"""Checks for lesson 13, saving and loading: a .keras round trip, an atomic save, and a PyTorch
checkpoint that saves and resumes (model, optimizer, epoch).

The references are independent of the learner's code: the round trip is checked against a loaded
model whose weights the check perturbs on purpose (so the returned difference must come from the
loaded model's predictions); the atomic save against the folder's contents and the bytes of the
target after a failing write; the checkpoints against `torch.load(weights_only=True)`, against one
more optimizer step taken by the original objects, and against a file that runs code when unpickled.
"""
import os
import tempfile

import numpy as np
import torch

from course.exercises.expect import CheckFailure, describe, expect
from course.exercises.registry import exercise

__all__ = []


# -- 13.1 ---------------------------------------------------------------------------------------

def _small_keras_model():
    from course.keras import Sequential, layers
    from course.keras.layers.base import clear_session
    clear_session()
    torch.manual_seed(131)
    model = Sequential([layers.Input(shape=(6,)), layers.Dense(8, activation="relu"),
                        layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(13)
    x = rng.random((20, 6)).astype(np.float32)
    y = rng.integers(0, 3, size=20)
    model.fit(x, y, epochs=1, batch_size=10, verbose=0)
    return model, x


@exercise("13.1", name="roundtrip_max_diff", points=2)
def _check_roundtrip_max_diff(roundtrip_max_diff):
    """Saves to `path`, reloads with load_model, returns max |model(x) - loaded(x)| from the loaded model."""
    from course.keras import saving
    model, x = _small_keras_model()
    weights_before = [w.copy() for w in model.get_weights()]
    original_load = saving.load_model
    calls = []

    def counting_load(*args, **kwargs):
        loaded = original_load(*args, **kwargs)
        calls.append(loaded)
        if perturb:
            kernel = loaded.layers[0].kernel
            kernel.assign(kernel.numpy() + 0.5)                # a planted difference the result must show
        return loaded

    with tempfile.TemporaryDirectory() as folder:
        for perturb in (False, True):
            path = os.path.join(folder, f"model_{int(perturb)}.keras")
            what = "roundtrip_max_diff(model, x, path)"
            saving.load_model = counting_load
            try:
                got = roundtrip_max_diff(model, x.copy(), path)
            finally:
                saving.load_model = original_load
            expect(os.path.isfile(path), f"{what}: no file was written at `path`; save with model.save(path).")
            expect(len(calls) > 0, f"{what}: the file was never loaded back; use tf.keras.models.load_model(path).")
            try:
                value = float(got)
            except (TypeError, ValueError):
                raise CheckFailure(f"{what}: expected a float, got {describe(got)}.") from None
            expected = float(np.abs(model.predict(x, verbose=0) - calls[-1].predict(x, verbose=0)).max())
            if perturb:
                expect(abs(value - expected) < 1e-5 + 1e-4 * expected,
                       f"{what}: the check changed the loaded model's first kernel by +0.5, so the predictions "
                       f"differ by up to {expected:.4g}; you returned {value:.4g}. Compare model.predict(x) with "
                       f"the LOADED model's predict(x), and return the largest absolute difference.")
            else:
                expect(abs(value) < 1e-6, f"{what}: a correct save and load gives 0.0; got {value:.4g}.")
            calls.clear()
    same = all(np.array_equal(a, b) for a, b in zip(weights_before, model.get_weights()))
    expect(same, "roundtrip_max_diff changed the original model's weights; only save and compare.")


# -- 13.2 ---------------------------------------------------------------------------------------

class _PowerCut(RuntimeError):
    pass


@exercise("13.2", name="atomic_save", points=2)
def _check_atomic_save(atomic_save):
    """write(tmp) next to `path`, then os.replace; on failure `path` is untouched and nothing is left over."""
    with tempfile.TemporaryDirectory() as root:
        folder = os.path.join(root, "checkpoints")
        os.makedirs(folder)
        path = os.path.join(folder, "model.keras")
        given = []

        def write_new(p):
            given.append(os.fspath(p))
            with open(p, "wb") as f:
                f.write(b"new model")

        atomic_save(path, write_new)
        expect(len(given) == 1, f"atomic_save(path, write) called write {len(given)} times; call it once.")
        tmp = given[0]
        if os.path.abspath(tmp) == os.path.abspath(path):
            raise CheckFailure("atomic_save(path, write) passed `path` itself to write; a crash during the write "
                               "would then destroy the old file. Pass a temporary path and os.replace it onto "
                               "`path` afterwards.")
        if os.path.dirname(os.path.abspath(tmp)) != folder:
            raise CheckFailure(f"atomic_save(path, write): the temporary file was in {os.path.dirname(tmp)!r}, not in "
                               f"the folder of `path`; os.replace is atomic only within one file system, so create "
                               f"it next to the target: tempfile.mkstemp(dir=os.path.dirname(path)).")
        expect(os.path.isfile(path) and open(path, "rb").read() == b"new model",
               "atomic_save(path, write): after a successful write, `path` should hold what write wrote.")
        expect(sorted(os.listdir(folder)) == ["model.keras"],
               f"atomic_save(path, write): files left in the folder: {sorted(os.listdir(folder))}; only the target "
               f"should remain (os.replace moves the temporary file, it does not copy it).")

        def write_and_crash(p):
            with open(p, "wb") as f:
                f.write(b"half a mod")
            raise _PowerCut("power cut")

        try:
            atomic_save(path, write_and_crash)
        except _PowerCut:
            pass
        else:
            raise CheckFailure("atomic_save(path, write) swallowed the exception raised by write; clean up, then "
                               "let it propagate (`raise`) so that the caller knows the save failed.")
        expect(open(path, "rb").read() == b"new model",
               "atomic_save(path, write) with a write that fails halfway: `path` changed; the old file must stay "
               "exactly as it was until the new one is complete.")
        expect(sorted(os.listdir(folder)) == ["model.keras"],
               f"atomic_save(path, write) with a write that fails: files left behind: {sorted(os.listdir(folder))}; "
               f"delete the temporary file before re-raising.")

        fresh = os.path.join(folder, "weights.bin")
        atomic_save(fresh, write_new)
        expect(os.path.isfile(fresh), "atomic_save(path, write) for a path that does not exist yet wrote nothing.")


# -- 13.3 and 13.4 -------------------------------------------------------------------------------

def _net_and_opt(seed):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3))
    return net, torch.optim.Adam(net.parameters(), lr=0.01)


def _steps(net, opt, n, seed):
    g = torch.Generator().manual_seed(seed)
    for _ in range(n):
        x, y = torch.randn(8, 4, generator=g), torch.randint(0, 3, (8,), generator=g)
        loss = torch.nn.functional.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()


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
    model_state = {k: v.clone() for k, v in net.state_dict().items()}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "ckpt.pt")
        save_checkpoint(path, net, opt, 7)
        expect(os.path.isfile(path), "save_checkpoint(path, model, optimizer, 7) wrote no file at `path`.")
        try:
            saved = torch.load(path, weights_only=True)
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
    expect(_same_state(saved["optimizer"], opt.state_dict()),
           "save_checkpoint: 'optimizer' is not the optimizer's state_dict() (Adam's state and param_groups).")
    expect(_same_state(net.state_dict(), model_state), "save_checkpoint changed the model; it should only save it.")


_ran = []


def _payload():
    """Called by pickle when the planted file is loaded unsafely."""
    _ran.append(True)
    return None


class _Payload:
    def __reduce__(self):
        return (_payload, ())


@exercise("13.4", name="load_checkpoint", points=2)
def _check_load_checkpoint(load_checkpoint):
    """Restores model and optimizer in place (one more step matches the original), returns the epoch,
    and never unpickles arbitrary objects."""
    original, original_opt = _net_and_opt(0)
    _steps(original, original_opt, 3, seed=1)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "ckpt.pt")
        torch.save({"epoch": 3, "model": original.state_dict(), "optimizer": original_opt.state_dict()}, path)
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
        if not all(torch.equal(a, b) for a, b in zip(original.parameters(), net.parameters())):
            raise CheckFailure("load_checkpoint: after loading, one more Adam step differs from the original run: "
                               "the optimizer's state (moments and step count) was not restored; use "
                               "optimizer.load_state_dict(checkpoint['optimizer']).")

        unsafe = os.path.join(folder, "unsafe.pt")
        torch.save({"epoch": 1, "model": original.state_dict(), "optimizer": original_opt.state_dict(),
                    "note": _Payload()}, unsafe)
        _ran.clear()
        net, opt = _net_and_opt(5)
        try:
            load_checkpoint(unsafe, net, opt)
        except Exception:
            pass                                                      # refusing the file is right
        if _ran:
            _ran.clear()
            raise CheckFailure("load_checkpoint ran code stored in the file (a pickled object's __reduce__): "
                               "load with torch.load(path, weights_only=True), which only rebuilds tensors and "
                               "plain containers.")
