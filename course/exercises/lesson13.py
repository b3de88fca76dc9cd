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
from course.exercises.fixtures import Fixture, mark_unpickled
from course.exercises.outcome import outcome_task
from course.exercises.questions import question
from course.exercises.registry import exercise
from course.exercises.remote import MISSING, LearnerError, current, probe

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
        expect(r["file"], en=f"{what}: no file was written at `path`; save with model.save(path).",
               zh=f"{what}：`path` 处没有写入任何文件；请用 model.save(path) 保存。")
        expect(r["loaded"], en=f"{what}: the file was never loaded back; use tf.keras.models.load_model(path).",
               zh=f"{what}：文件从未被重新加载；请使用 tf.keras.models.load_model(path)。")
        got = r["got"]
        try:
            value = float(got)
        except (TypeError, ValueError):
            raise CheckFailure(en=f"{what}: expected a float, got {describe(got)}.",
                               zh=f"{what}：期望一个浮点数，得到 {describe(got, lang='zh')}。") from None
        expected = float(np.abs(np.asarray(r["original"], dtype=np.float64)
                                - np.asarray(r["reloaded"], dtype=np.float64)).max())
        if perturb:
            expect(abs(value - expected) < 1e-5 + 1e-4 * expected,
                   en=f"{what}: the check changed the loaded model's first kernel by +0.5, so the predictions "
                      f"differ by up to {expected:.4g}; you returned {value:.4g}. Compare model.predict(x) with "
                      f"the LOADED model's predict(x), and return the largest absolute difference.",
                   zh=f"{what}：检查程序把加载后模型的第一个核加了 +0.5，所以预测值最多相差 {expected:.4g}；"
                      f"你返回的是 {value:.4g}。请把 model.predict(x) 与*加载后*模型的 predict(x) 比较，"
                      f"返回最大的绝对差。")
        else:
            expect(abs(value) < 1e-6, en=f"{what}: a correct save and load gives 0.0; got {value:.4g}.",
                   zh=f"{what}：正确地保存并加载后，差应为 0.0；得到 {value:.4g}。")
        expect(r["weights_same"], en="roundtrip_max_diff changed the original model's weights; only save and compare.",
               zh="roundtrip_max_diff 改变了原模型的权重；只能保存和比较。")


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
    expect(len(given) == 1, en=f"atomic_save(path, write) called write {len(given)} times; call it once.",
           zh=f"atomic_save(path, write) 调用了 write {len(given)} 次；应只调用一次。")
    tmp = posixpath.normpath(given[0])
    if tmp == posixpath.normpath(path):
        raise CheckFailure(en="atomic_save(path, write) passed `path` itself to write; a crash during the write "
                              "would then destroy the old file. Pass a temporary path and os.replace it onto "
                              "`path` afterwards.",
                           zh="atomic_save(path, write) 把 `path` 本身传给了 write；这样一来，写入过程中一旦崩溃，"
                              "旧文件就被毁掉了。请传入一个临时路径，之后再用 os.replace 把它替换到 `path` 上。")
    if posixpath.dirname(tmp) != folder:
        where = posixpath.dirname(tmp)
        raise CheckFailure(en=f"atomic_save(path, write): the temporary file was in {where!r}, not in "
                              f"the folder of `path`; os.replace is atomic only within one file system, so create "
                              f"it next to the target: tempfile.mkstemp(dir=os.path.dirname(path)).",
                           zh=f"atomic_save(path, write)：临时文件在 {where!r} 中，而不在 `path` 所在的文件夹里；"
                              f"os.replace 只有在同一个文件系统内才是原子的，所以要在目标旁边创建它："
                              f"tempfile.mkstemp(dir=os.path.dirname(path))。")
    expect(_read(path) == b"new model",
           en="atomic_save(path, write): after a successful write, `path` should hold what write wrote.",
           zh="atomic_save(path, write)：写入成功之后，`path` 中应当是 write 写入的内容。")
    left = sorted(t.listdir(folder))
    expect(left == ["model.keras"],
           en=f"atomic_save(path, write): files left in the folder: {left}; only the target "
              f"should remain (os.replace moves the temporary file, it does not copy it).",
           zh=f"atomic_save(path, write)：文件夹中留下的文件：{left}；应当只剩下目标文件"
              f"（os.replace 是移动临时文件，而不是复制它）。")

    try:
        atomic_save(path, Fixture("writer", b"half a mod", crash=True))
    except LearnerError as exc:
        if exc.remote_type != "PowerCut":
            raise
    else:
        raise CheckFailure(en="atomic_save(path, write) swallowed the exception raised by write; clean up, then "
                              "let it propagate (`raise`) so that the caller knows the save failed.",
                           zh="atomic_save(path, write) 吞掉了 write 抛出的异常；请先清理，再让异常继续传播"
                              "（`raise`），这样调用者才知道保存失败了。")
    expect(_read(path) == b"new model",
           en="atomic_save(path, write) with a write that fails halfway: `path` changed; the old file must stay "
              "exactly as it was until the new one is complete.",
           zh="atomic_save(path, write) 在 write 中途失败时：`path` 被改变了；在新文件完整写好之前，"
              "旧文件必须保持原样。")
    left = sorted(t.listdir(folder))
    expect(left == ["model.keras"],
           en=f"atomic_save(path, write) with a write that fails: files left behind: {left}; "
              f"delete the temporary file before re-raising.",
           zh=f"atomic_save(path, write) 在 write 失败时：留下的文件：{left}；"
              f"请在重新抛出异常之前删除临时文件。")

    fresh = posixpath.join(folder, "weights.bin")
    atomic_save(fresh, Fixture("writer", b"new model"))
    expect(t.exists(fresh), en="atomic_save(path, write) for a path that does not exist yet wrote nothing.",
           zh="atomic_save(path, write) 对一个尚不存在的路径什么也没有写。")


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
    expect(data is not None, en="save_checkpoint(path, model, optimizer, 7) wrote no file at `path`.",
           zh="save_checkpoint(path, model, optimizer, 7) 没有在 `path` 处写入文件。")
    try:
        saved = _load_plain(data)
    except Exception as exc:
        said = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
        raise CheckFailure(en=f"save_checkpoint wrote a file that torch.load(path, weights_only=True) refuses "
                              f"({said}). Save state dicts "
                              f"(model.state_dict(), optimizer.state_dict()) and an int, not the objects "
                              f"themselves.",
                           zh=f"save_checkpoint 写入的文件被 torch.load(path, weights_only=True) 拒绝了"
                              f"（`{said}`）。请保存状态字典（model.state_dict()、optimizer.state_dict()）"
                              f"和一个整数，而不是这些对象本身。") from None
    expect(isinstance(saved, dict), en=f"save_checkpoint: the file holds {describe(saved)}; save a dict.",
           zh=f"save_checkpoint：文件中保存的是 {describe(saved, lang='zh')}；应保存一个 dict。")
    missing = [k for k in ("epoch", "model", "optimizer") if k not in saved]
    expect(not missing, en=f"save_checkpoint: the saved dict lacks {missing} (it has {sorted(saved)}).",
           zh=f"save_checkpoint：保存的 dict 缺少 {missing}（它含有 {sorted(saved)}）。")
    expect(saved["epoch"] == 7 and isinstance(saved["epoch"], int),
           en=f"save_checkpoint(path, model, optimizer, 7): 'epoch' should be the int 7, "
              f"got {describe(saved['epoch'])}.",
           zh=f"save_checkpoint(path, model, optimizer, 7)：'epoch' 应当是整数 7，"
              f"得到 {describe(saved['epoch'], lang='zh')}。")
    expect(_same_state(saved["model"], model_state),
           en="save_checkpoint: 'model' is not the model's state_dict() (parameter names to tensors).",
           zh="save_checkpoint：'model' 不是模型的 state_dict()（从参数名到张量的映射）。")
    expect(_same_state(saved["optimizer"], opt_state),
           en="save_checkpoint: 'optimizer' is not the optimizer's state_dict() (Adam's state and param_groups).",
           zh="save_checkpoint：'optimizer' 不是优化器的 state_dict()（Adam 的 state 和 param_groups）。")
    expect(_same_state(net.state_dict(), model_state), en="save_checkpoint changed the model; it should only save it.",
           zh="save_checkpoint 改变了模型；它只应保存模型。")


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
           en=f"load_checkpoint(path, model, optimizer) for a checkpoint saved with epoch 3 should return 3, "
              f"got {describe(got)}.",
           zh=f"load_checkpoint(path, model, optimizer) 对一个以 epoch 3 保存的检查点应返回 3，"
              f"得到 {describe(got, lang='zh')}。")
    expect(_same_state(net.state_dict(), original.state_dict()),
           en="load_checkpoint: the model's weights are not those of the checkpoint; use "
              "model.load_state_dict(checkpoint['model']).",
           zh="load_checkpoint：模型的权重不是检查点中的权重；请使用 "
              "model.load_state_dict(checkpoint['model'])。")
    _steps(original, original_opt, 1, seed=2)
    _steps(net, opt, 1, seed=2)
    if not all(isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and torch.equal(a, b)
               for a, b in zip(_parameters(original), _parameters(net))):
        raise CheckFailure(en="load_checkpoint: after loading, one more Adam step differs from the original run: "
                              "the optimizer's state (moments and step count) was not restored; use "
                              "optimizer.load_state_dict(checkpoint['optimizer']).",
                           zh="load_checkpoint：加载之后再走一步 Adam，结果与原来的运行不同：优化器的状态"
                              "（矩估计和步数）没有恢复；请使用 optimizer.load_state_dict(checkpoint['optimizer'])。")

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
        raise CheckFailure(en="load_checkpoint ran code stored in the file (a pickled object's __reduce__): "
                              "load with torch.load(path, weights_only=True), which only rebuilds tensors and "
                              "plain containers.",
                           zh="load_checkpoint 执行了文件中保存的代码（一个被 pickle 的对象的 __reduce__）："
                              "请用 torch.load(path, weights_only=True) 加载，它只重建张量和普通容器。")


# -- Check your understanding: questions (keys in the instructor's checks file) and a planted bug ---
question("13.5", name="answer_13_5", points=1, kind="choice", choices="abcd")
question("13.6", name="answer_13_6", points=1, kind="number")
outcome_task("13.7", name="train_and_reload", points=3, order="given",
             practice={"target": 0.82, "seconds": 6, "n_train": 2000, "n_test": 1000})
