"""Checks for lesson 10, overfitting and regularisation: the L2 penalty, inverted dropout, the
early-stopping rule, per-image augmentation.

References are independent of the learner's code: the penalty and its gradient 2λw in float64,
dropout's statistics on 200 000 elements (fraction dropped, scale of the kept values, mean kept),
Keras' EarlyStopping rule written out as a loop, and for augmentation the exact property of an
integer shift (the image reappears shifted by at most round(0.1·28) = 3 pixels).
"""
import math

import torch

from course.exercises import seeding
from course.exercises.expect import CheckFailure, as_tensor, describe, expect, expect_close, say
from course.exercises.fixtures import Fixture
from course.exercises.forbidden import SCRATCH
from course.exercises.outcome import outcome_task
from course.exercises.questions import question
from course.exercises.registry import exercise
from course.exercises.remote import current, probe

__all__ = []



def _seed_learner_side(offset):
    """Seed torch's global generator where the learner's code runs (fresh per grading run)."""
    current().make(Fixture("torch_seed", seeding.current_seed() % 2**31 + offset), keep=False)


# -- 10.1 ---------------------------------------------------------------------------------------

@exercise("10.1", name="l2_penalty", points=2)
def _check_l2_penalty(l2_penalty):
    """λ Σ_W Σ w², a differentiable scalar tensor."""
    g = seeding.torch_generator(101)
    cases = [([torch.randn(3, 4, generator=g), torch.randn(5, generator=g)], 0.01),
             ([torch.randn(2, 2, generator=g) * 10], 0.5),
             ([torch.randn(4, 3, generator=g), torch.randn(3, generator=g), torch.randn(3, 2, generator=g)], 1e-3)]
    for weights, lam in cases:
        shapes = [tuple(w.shape) for w in weights]
        what = say(f"l2_penalty(weights, l2={lam}) with weights of shapes {shapes}",
                   f"l2_penalty(weights, l2={lam})（weights 中张量的形状为 {shapes}）")
        # The gradient is taken on the learner's side (a probe); its values are compared here.
        r = probe("probe_call_and_grad", l2_penalty, [w.clone() for w in weights], lam)
        got = r["out"]
        squares = [(w.double() ** 2).sum() for w in weights]
        expected = lam * sum(squares)                                            # λ Σ_W Σ w²
        if not r["is_tensor"] or not isinstance(got, torch.Tensor):
            raise CheckFailure(en=f"{what.en}: expected a scalar torch tensor (so that autograd can differentiate "
                                  f"it), got {describe(got)}. Build it from torch operations and do not call .item().",
                               zh=f"{what.zh}：期望一个 torch 标量张量（这样 autograd 才能对它求导），"
                                  f"得到 {describe(got, lang='zh')}。请用 torch 运算构造它，不要调用 .item()。")
        value = float(got.detach())
        near = lambda a: math.isclose(value, float(a), rel_tol=1e-4, abs_tol=1e-9)
        if near(expected / 2):
            raise CheckFailure(en=f"{what.en}: got {value:.6g}, half of the expected {float(expected):.6g}; Keras' "
                                  f"L2 is λ·Σw² without the 1/2 that tf.nn.l2_loss has.",
                               zh=f"{what.zh}：得到 {value:.6g}，是期望值 {float(expected):.6g} 的一半；Keras 的 L2 "
                                  f"是 λ·Σw²，没有 tf.nn.l2_loss 里的 1/2。")
        if near(lam * sum(float((w.double() ** 2).mean()) for w in weights)):
            raise CheckFailure(en=f"{what.en}: got {value:.6g}, which uses the MEAN of the squares; the penalty is "
                                  f"the SUM of w² over all elements (expected {float(expected):.6g}).",
                               zh=f"{what.zh}：得到 {value:.6g}，用的是平方的*均值*；惩罚项是所有元素的 w² 之*和*"
                                  f"（期望 {float(expected):.6g}）。")
        if near(lam * sum(float(s.sqrt()) for s in squares)):
            raise CheckFailure(en=f"{what.en}: got {value:.6g}, a sum of norms ‖W‖; the penalty uses squared "
                                  f"weights, Σw², with no square root (expected {float(expected):.6g}).",
                               zh=f"{what.zh}：得到 {value:.6g}，这是范数 ‖W‖ 之和；惩罚项用的是权重的平方 Σw²，"
                                  f"不开平方根（期望 {float(expected):.6g}）。")
        if len(weights) > 1 and near(lam * squares[0]):
            raise CheckFailure(en=f"{what.en}: got {value:.6g}, the penalty of the first tensor only; sum over all "
                                  f"tensors in the list (expected {float(expected):.6g}).",
                               zh=f"{what.zh}：得到 {value:.6g}，这只是第一个张量的惩罚项；请对列表中的所有张量求和"
                                  f"（期望 {float(expected):.6g}）。")
        expect_close(got.detach(), expected, what=what, rtol=1e-5, atol=1e-8, check_dtype=False)
        expect(got.dim() == 0, en=f"{what.en}: expected a scalar (shape ()), got shape {tuple(got.shape)}.",
               zh=f"{what.zh}：期望标量（形状 ()），得到形状 {tuple(got.shape)}。")
        expect(r["requires_grad"], en=f"{what.en}: the result is not connected to the weights (no gradient); compute "
                                     f"it with torch operations on the tensors, without .item(), .detach() or numpy.",
               zh=f"{what.zh}：结果与权重没有联系（没有梯度）；请在张量上用 torch 运算计算它，"
                  f"不要用 .item()、.detach() 或 numpy。")
        grads = r["grads"]
        for i, (w, grad) in enumerate(zip(weights, grads)):
            expect(grad is not None, en=f"{what.en}: the result does not depend on weights[{i}].",
                   zh=f"{what.zh}：结果不依赖于 weights[{i}]。")
            expect_close(grad, 2 * lam * w, what=what + say(f": gradient with respect to weights[{i}] (2λw)",
                                                            f"：对 weights[{i}] 的梯度（2λw）"),
                         rtol=1e-4, atol=1e-7)
        for w, p in zip(weights, r["params_after"]):
            expect(torch.equal(w, p), en=f"{what.en} modified the weights in place; only read them.",
                   zh=f"{what.zh} 原地修改了权重；只能读取它们。")


# -- 10.2 ---------------------------------------------------------------------------------------

@exercise("10.2", name="dropout_forward", points=2, forbid=SCRATCH)
def _check_dropout_forward(dropout_forward):
    """Inverted dropout: zero with probability rate, scale the rest by 1/(1-rate); identity when not training."""
    g = seeding.torch_generator(102)
    small = torch.rand(4, 5, generator=g) + 0.5                         # (4, 5), no zeros
    for rate in (0.0, 0.5):
        got = dropout_forward(small.clone(), rate, training=False)
        expect_close(got, small, what=say(f"dropout_forward(x, {rate}, training=False) (inference: x unchanged)",
                                          f"dropout_forward(x, {rate}, training=False)（推理时 x 不变）"),
                     inputs={"x": small}, kind="torch")

    x = torch.rand(200_000, generator=g) + 0.5                           # (200000,), values in [0.5, 1.5)
    for rate in (0.3, 0.8):
        call = f"dropout_forward(x, {rate}, training=True)"
        what = say(f"{call} on x = 200 000 values in [0.5, 1.5)", f"{call}（x 为 [0.5, 1.5) 中的 200 000 个值）")
        keep = x.clone()
        _seed_learner_side(0)
        out = dropout_forward(x, rate, training=True)
        expect(isinstance(out, torch.Tensor), en=f"{what.en}: expected a torch.Tensor, got {describe(out)}.",
               zh=f"{what.zh}：期望 torch.Tensor，得到 {describe(out, lang='zh')}。")
        expect(tuple(out.shape) == tuple(x.shape),
               en=f"{what.en}: shape: expected {tuple(x.shape)}, got {tuple(out.shape)}.",
               zh=f"{what.zh}：形状：期望 {tuple(x.shape)}，得到 {tuple(out.shape)}。")
        expect(torch.equal(x, keep), en=f"{what.en} modified x in place; return a new tensor.",
               zh=f"{what.zh} 原地修改了 x；应返回一个新的张量。")
        out = out.detach().to(torch.float64)
        dropped = (out == 0).double().mean().item()
        if abs(dropped - (1 - rate)) < 0.01 and abs(rate - 0.5) > 0.05:
            raise CheckFailure(en=f"{what.en}: {dropped:.3f} of the values are 0, i.e. 1 - rate; `rate` is the "
                                  f"probability of DROPPING a value (TF1's keep_prob = 1 - rate).",
                               zh=f"{what.zh}：为 0 的值占 {dropped:.3f}，也就是 1 - rate；`rate` 是*丢弃*一个值"
                                  f"的概率（TF1 的 keep_prob = 1 - rate）。")
        expect(abs(dropped - rate) < 0.01,
               en=f"{what.en}: the fraction of zeros should be about {rate}; got {dropped:.4f}.",
               zh=f"{what.zh}：0 的比例应约为 {rate}；得到 {dropped:.4f}。")
        kept = out != 0
        ratio = out[kept] / x.double()[kept]
        if torch.allclose(ratio, torch.ones_like(ratio), atol=1e-5):
            raise CheckFailure(en=f"{what.en}: the kept values are unchanged; inverted dropout divides them by "
                                  f"(1 - rate) = {1 - rate:g}, so that the expected value of each unit stays the same.",
                               zh=f"{what.zh}：保留下来的值没有改变；反向缩放的 dropout 把它们除以 "
                                  f"(1 - rate) = {1 - rate:g}，使每个单元的期望值保持不变。")
        if torch.allclose(ratio, torch.full_like(ratio, 1 - rate), rtol=1e-5):
            raise CheckFailure(en=f"{what.en}: the kept values are multiplied by (1 - rate); inverted dropout "
                                  f"DIVIDES them by (1 - rate) in training (and leaves inference alone).",
                               zh=f"{what.zh}：保留下来的值被乘以了 (1 - rate)；反向缩放的 dropout 在训练时把它们"
                                  f"*除以* (1 - rate)（推理时则不做任何处理）。")
        expect_close(ratio, torch.full_like(ratio, 1 / (1 - rate)),
                     what=what + say(": kept value / input", "：保留的值 / 输入"), rtol=1e-5, atol=1e-6)
        mean_ratio = out.mean().item() / x.double().mean().item()
        expect(abs(mean_ratio - 1) < 0.02,
               en=f"{what.en}: the mean should be kept (E[out] = x); got mean(out)/mean(x) = {mean_ratio:.4f}.",
               zh=f"{what.zh}：均值应保持不变（E[out] = x）；得到 mean(out)/mean(x) = {mean_ratio:.4f}。")
    got = dropout_forward(small.clone(), 0.0, training=True)
    expect_close(got, small, what=say("dropout_forward(x, 0.0, training=True) (rate 0 drops nothing)",
                                      "dropout_forward(x, 0.0, training=True)（rate 为 0 时什么都不丢弃）"),
                 kind="torch")
    _seed_learner_side(1)
    a = dropout_forward(small.clone(), 0.5, training=True)
    b = dropout_forward(small.clone(), 0.5, training=True)
    expect(not torch.equal(a, b), en="dropout_forward(x, 0.5, training=True) returned the same result twice; draw a "
                                     "new random mask on every call (torch.rand_like(x)).",
           zh="dropout_forward(x, 0.5, training=True) 两次返回了相同的结果；每次调用都要抽取新的随机掩码"
              "（torch.rand_like(x)）。")
    expect(tuple(a.shape) == (4, 5), en=f"dropout_forward on x of shape (4, 5): got shape {tuple(a.shape)}.",
           zh=f"dropout_forward 作用于形状为 (4, 5) 的 x：得到的形状为 {tuple(a.shape)}。")


# -- 10.3 ---------------------------------------------------------------------------------------

def _early_stopping_reference(val_losses, patience, min_delta=0.0):
    """Keras' EarlyStopping (mode 'min', no baseline): (last trained epoch, best epoch), from 0."""
    best, best_epoch, wait = math.inf, 0, 0
    for epoch, value in enumerate(val_losses):
        wait += 1
        if epoch == 0 or value < best - min_delta:
            best, best_epoch, wait = value, epoch, 0
            continue
        if wait >= max(patience, 1):
            return epoch, best_epoch
    return len(val_losses) - 1, best_epoch


_EARLY_CASES = [
    ([1.0, 0.8, 0.9, 0.85, 0.95], 2, 0.0),
    ([5.0, 4.0, 3.0, 2.0, 1.0], 1, 0.0),            # never stops
    ([1.0, 2.0, 0.5], 1, 0.0),                      # stops before the later, better epoch
    ([1.0, 1.0, 1.0, 1.0], 2, 0.0),                 # equal is not better
    ([1.0, 0.95, 0.93, 0.92, 0.5], 2, 0.1),         # improvements smaller than min_delta do not count
    ([1.0, 0.85, 0.8, 0.7], 1, 0.1),
    ([1.0, 1.1, 0.9, 1.0, 1.2, 1.3], 2, 0.0),       # an improvement resets the wait
    ([0.5], 3, 0.0),
    ([0.9, 0.7, 0.71, 0.69, 0.72, 0.73, 0.74, 0.6], 3, 0.0),
]


@exercise("10.3", name="early_stopping", points=2)
def _check_early_stopping(early_stopping):
    """(last_epoch, best_epoch) from 0 under Keras' rule: improvement = loss < best - min_delta."""
    g = seeding.torch_generator(103)
    noisy = (1.0 / torch.arange(1, 31) + 0.05 * torch.rand(30, generator=g)).tolist()   # a noisy falling curve
    for losses, patience, min_delta in _EARLY_CASES + [(noisy, 4, 0.0), (noisy, 2, 0.01)]:
        shown = [round(v, 3) for v in losses]
        what = f"early_stopping({shown if len(shown) <= 10 else str(shown[:8])[:-1] + ', ...]'}, patience={patience}" \
               f"{f', min_delta={min_delta}' if min_delta else ''})"
        got = early_stopping(list(losses), patience, min_delta)
        expected = _early_stopping_reference(losses, patience, min_delta)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise CheckFailure(en=f"{what}: expected a pair (last_epoch, best_epoch), got {describe(got)}.",
                               zh=f"{what}：期望一对值 (last_epoch, best_epoch)，得到 {describe(got, lang='zh')}。")
        try:
            got = (int(got[0]), int(got[1]))
        except (TypeError, ValueError):
            raise CheckFailure(en=f"{what}: expected two integers, got {describe(got)}.",
                               zh=f"{what}：期望两个整数，得到 {describe(got, lang='zh')}。") from None
        if got == (expected[0] + 1, expected[1] + 1):
            raise CheckFailure(en=f"{what}: expected {expected}, got {got}: count epochs from 0, as the callback's "
                                  f"stopped_epoch and best_epoch do.",
                               zh=f"{what}：期望 {expected}，得到 {got}：轮（epoch）从 0 开始计数，和回调的 "
                                  f"stopped_epoch 与 best_epoch 一样。")
        if got != expected:
            hint = say("", "")
            if min_delta and got == _early_stopping_reference(losses, patience, 0.0):
                hint = say(f" An epoch improves only if its loss is below best - min_delta = best - {min_delta}.",
                           f"只有损失低于 best - min_delta = best - {min_delta} 时，这一轮才算有改善。")
            elif got == _early_stopping_reference(losses, patience + 1, min_delta):
                hint = say(f" Training stops as soon as `patience` = {patience} epochs in a row did not improve.",
                           f"一旦连续 `patience` = {patience} 轮没有改善，训练就停止。")
            elif any(a == b for a, b in zip(losses, losses[1:])):
                hint = say(" An equal loss is not an improvement (strictly smaller is).",
                           "相等的损失不算改善（严格更小才算）。")
            raise CheckFailure(en=f"{what}: expected (last_epoch, best_epoch) = {expected}, got {got}.{hint.en}",
                               zh=f"{what}：期望 (last_epoch, best_epoch) = {expected}，得到 {got}。{hint.zh}")


# -- 10.4 ---------------------------------------------------------------------------------------

def _shift_of(image, out, max_shift):
    """(dx, dy) with out == image shifted by (dx, dy) pixels (zero fill), or None."""
    for dy in range(-max_shift, max_shift + 1):
        for dx in range(-max_shift, max_shift + 1):
            if torch.allclose(torch.roll(image, (dy, dx), dims=(0, 1)), out, atol=1e-5):
                return dx, dy
    return None


def _centre_of_mass(image):
    r = torch.arange(image.shape[0], dtype=torch.float64)
    m = image.double().sum()
    return ((image.double().sum(1) * r).sum() / m).item(), ((image.double().sum(0) * r).sum() / m).item()


@exercise("10.4", name="augment_batch", points=2)
def _check_augment_batch(augment_batch):
    """A random affine per image: shapes, identity at 0, integer shifts for translate, one draw per image."""
    g = seeding.torch_generator(104)
    images = torch.zeros(6, 28, 28)
    images[:, 9:19, 9:19] = torch.rand(6, 10, 10, generator=g)            # patterns away from the border
    keep = images.clone()

    _seed_learner_side(0)
    out = augment_batch(images, degrees=0.0, translate=0.0)
    got = as_tensor(out)
    if got is not None and tuple(got.shape) == (6, 1, 28, 28):
        raise CheckFailure(en="augment_batch(images) with images of shape (6, 28, 28) returned shape "
                              "(6, 1, 28, 28); drop the channel axis again so that the result has the input's shape.",
                           zh="augment_batch(images) 对形状为 (6, 28, 28) 的 images 返回了形状 (6, 1, 28, 28)；"
                              "请再去掉通道轴，使结果的形状与输入相同。")
    expect_close(out, keep, what=say("augment_batch(images, degrees=0, translate=0) (no rotation, no shift: unchanged)",
                                     "augment_batch(images, degrees=0, translate=0)（不旋转、不平移：图像不变）"),
                 kind="torch", atol=1e-5)
    expect(torch.equal(images, keep), en="augment_batch modified `images` in place; return a new tensor.",
           zh="augment_batch 原地修改了 `images`；应返回一个新的张量。")

    _seed_learner_side(1)
    out = augment_batch(images, degrees=0.0, translate=0.1)
    expect(isinstance(out, torch.Tensor) and tuple(out.shape) == (6, 28, 28) and out.dtype == torch.float32,
           en=f"augment_batch(images, degrees=0, translate=0.1): expected a float32 tensor of shape (6, 28, 28), "
              f"got {describe(out)}.",
           zh=f"augment_batch(images, degrees=0, translate=0.1)：期望形状为 (6, 28, 28) 的 float32 张量，"
              f"得到 {describe(out, lang='zh')}。")
    for i in range(6):
        shift = _shift_of(keep[i], out[i], 3)
        expect(shift is not None, en=f"augment_batch(images, degrees=0, translate=0.1): image {i} is not its input "
                                     f"shifted by at most 3 pixels (10% of 28, rounded); use "
                                     f"RandomAffine(degrees=degrees, translate=(translate, translate)).",
               zh=f"augment_batch(images, degrees=0, translate=0.1)：第 {i} 张图像不是它的输入平移至多 3 个像素"
                  f"（28 的 10%，取整）的结果；请使用 "
                  f"RandomAffine(degrees=degrees, translate=(translate, translate))。")

    same = keep[:1].expand(16, 28, 28).clone()
    _seed_learner_side(2)
    out = augment_batch(same, degrees=0.0, translate=0.1)
    distinct = len({_shift_of(same[0], o, 3) for o in out})
    expect(distinct >= 3, en=f"augment_batch on 16 copies of one image (translate=0.1) gave only {distinct} "
                             f"different shift(s); a v2 transform draws ONE set of random parameters per call, so "
                             f"call it once per image, not once on the whole batch.",
           zh=f"augment_batch 作用于同一张图像的 16 个副本（translate=0.1），只得到 {distinct} 种不同的平移；"
              f"v2 变换每次调用只抽取*一组*随机参数，所以要对每张图像各调用一次，而不是对整个批次调用一次。")

    # 16 bars: with nearest-pixel resampling an angle under about 3.6 degrees leaves a 16-pixel bar as it
    # was (about 12% of draws from [-30, 30]), so a correct answer leaves some unchanged; 8 or more
    # unchanged has odds near 1e-6, while ignoring `degrees` leaves all 16.
    bar = torch.zeros(16, 28, 28)
    bar[:, 6:22, 13:15] = 1.0                                         # a vertical bar through the centre
    _seed_learner_side(3)
    out = augment_batch(bar.clone(), degrees=30.0, translate=0.0)
    expect(isinstance(out, torch.Tensor) and tuple(out.shape) == (16, 28, 28),
           en=f"augment_batch(bars, degrees=30, translate=0): expected shape (16, 28, 28), got {describe(out)}.",
           zh=f"augment_batch(bars, degrees=30, translate=0)：期望形状 (16, 28, 28)，得到 {describe(out, lang='zh')}。")
    expect(bool((out >= -1e-6).all() and (out <= 1 + 1e-6).all()),
           en="augment_batch(bars, degrees=30, translate=0): values left [0, 1].",
           zh="augment_batch(bars, degrees=30, translate=0)：有值超出了 [0, 1]。")
    changed = sum(not torch.allclose(o, bar[0], atol=1e-5) for o in out)
    expect(changed >= 8, en=f"augment_batch(bars, degrees=30, translate=0): only {changed} of 16 images were rotated; "
                            f"pass degrees to RandomAffine.",
           zh=f"augment_batch(bars, degrees=30, translate=0)：16 张图像中只有 {changed} 张被旋转了；"
              f"请把 degrees 传给 RandomAffine。")
    for i, o in enumerate(out):
        ink = o.sum().item() / bar[0].sum().item()
        cy, cx = _centre_of_mass(o) if o.sum() > 0 else (0.0, 0.0)
        expect(0.6 < ink < 1.4 and abs(cy - 13.5) < 1.5 and abs(cx - 13.5) < 1.5,
               en=f"augment_batch(bars, degrees=30, translate=0): image {i} is not a rotation of the centred bar "
                  f"(ink ratio {ink:.2f}, centre of mass ({cy:.1f}, {cx:.1f}) instead of (13.5, 13.5)); with "
                  f"translate=0 nothing should move off-centre.",
               zh=f"augment_batch(bars, degrees=30, translate=0)：第 {i} 张图像不是居中竖条旋转后的样子"
                  f"（像素值总和之比 {ink:.2f}，质心 ({cy:.1f}, {cx:.1f})，而不是 (13.5, 13.5)）；"
                  f"translate=0 时不应有任何东西偏离中心。")


# -- Check your understanding: questions (keys in the instructor's checks file) and a planted bug ---
question("10.5", name="answer_10_5", points=1, kind="choice", choices="abcd")
question("10.6", name="answer_10_6", points=1, kind="number")
outcome_task("10.7", name="train_augmented", points=3, order="given",
             practice={"target": 0.82, "seconds": 6, "n_train": 2000, "n_test": 1000})
