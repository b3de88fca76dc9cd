"""Checks for lesson 15, export and optimisation: global magnitude masks, int8 rounding, distillation;
two conceptual questions and a planted-bug outcome task (pruning by signed value, not magnitude)."""
import warnings

import torch
import torch.nn.functional as F

from course.exercises import seeding
from course.exercises.expect import CheckFailure, expect, expect_close, say
from course.exercises.outcome import outcome_task
from course.exercises.questions import question
from course.exercises.registry import exercise

__all__ = []


def _reference_masks(weights, amount):
    """torch.nn.utils.prune.global_unstructured(L1Unstructured) on copies of `weights`."""
    from torch.nn.utils import prune
    holders = []
    for w in weights:
        m = torch.nn.Module()
        m.weight = torch.nn.Parameter(w.clone())
        holders.append(m)
    prune.global_unstructured([(m, "weight") for m in holders], pruning_method=prune.L1Unstructured, amount=amount)
    return [m.weight_mask.clone() for m in holders]


@exercise("15.1", name="magnitude_masks", points=3)
def _check_magnitude_masks(magnitude_masks):
    """Global magnitude pruning: masks that zero the fraction `amount` of smallest |w| over all tensors."""
    g = seeding.torch_generator(15)
    cases = [([torch.randn(4, 5, generator=g), torch.randn(3, generator=g) * 3], 0.5),
             ([torch.randn(6, 6, generator=g) * 0.1, torch.randn(2, 10, generator=g)], 0.8),
             ([torch.randn(10, generator=g)], 0.0),
             ([torch.randn(3, 3, generator=g), torch.randn(3, 3, generator=g)], 0.3)]
    for weights, amount in cases:
        keep = [w.clone() for w in weights]
        got = magnitude_masks([w.clone() for w in weights], amount)
        expected = _reference_masks(keep, amount)
        shapes = [tuple(w.shape) for w in keep]
        what = say(f"magnitude_masks(weights of shapes {shapes}, amount={amount})",
                   f"magnitude_masks(weights, amount={amount})（weights 中张量的形状为 {shapes}）")
        if not isinstance(got, (list, tuple)) or len(got) != len(expected):
            raise CheckFailure(en=f"{what.en}: expected a list of {len(expected)} masks, one per tensor; "
                                  f"got {got!r:.80}.",
                               zh=f"{what.zh}：期望一个包含 {len(expected)} 个掩码的列表，每个张量一个；"
                                  f"得到 `{got!r:.80}`。")
        got = [torch.as_tensor(m).to(torch.float32) for m in got]
        same = all(m.shape == e.shape and torch.equal(m, e) for m, e in zip(got, expected))
        per_layer = [_reference_masks([w], amount)[0] for w in keep]
        if not same and len(keep) > 1 and all(m.shape == e.shape and torch.equal(m, e) for m, e in zip(got, per_layer)):
            raise CheckFailure(en=f"{what.en}: each tensor was pruned on its own; rank all magnitudes TOGETHER "
                                  f"(global pruning), so that a layer of small weights loses more of them.",
                               zh=f"{what.zh}：每个张量是各自单独剪枝的；请把所有幅值*放在一起*排序（全局剪枝），"
                                  f"这样权重较小的层会失去更多权重。")
        kept = sum(int(m.sum()) for m in got)
        want = sum(int(m.sum()) for m in expected)
        if kept != want:
            n = sum(w.numel() for w in keep)
            raise CheckFailure(en=f"{what.en}: your masks keep {kept} weights, expected {want}: remove "
                                  f"round({amount} * n) = {round(amount * n)} of the n = {n} weights in all.",
                               zh=f"{what.zh}：你的掩码保留了 {kept} 个权重，期望 {want} 个：应在全部 n = {n} 个权重中"
                                  f"去掉 round({amount} * n) = {round(amount * n)} 个。")
        for i, (m, e) in enumerate(zip(got, expected)):
            expect_close(m, e, what=say(f"{what.en}: mask {i}", f"{what.zh}：第 {i} 个掩码"), rtol=0, atol=0,
                         check_dtype=False)


@exercise("15.2", name="quantize_per_row", points=2)
def _check_quantize_per_row(quantize_per_row):
    """Symmetric int8 per output row: s = max|w| / 127, q = clamp(round(w / s), -127, 127)."""
    g = seeding.torch_generator(2)
    for w in (torch.randn(4, 6, generator=g), torch.randn(3, 5, generator=g) * 1e-3,
              torch.tensor([[1.0, -0.5, 0.25], [-2.0, 0.0, 2.0]])):
        keep = w.clone()
        got = quantize_per_row(w.clone())
        if not isinstance(got, tuple) or len(got) != 2:
            raise CheckFailure(en=f"quantize_per_row(w) should return a pair (q, s); got {type(got).__name__}.",
                               zh=f"quantize_per_row(w) 应返回一对值 (q, s)；得到 {type(got).__name__}。")
        q, s = got
        s_ref = keep.abs().amax(dim=1) / 127                                               # (out,)
        with warnings.catch_warnings():                 # quantized tensors are deprecated, still exact
            warnings.simplefilter("ignore")
            ref = torch.quantize_per_channel(keep, s_ref.double(), torch.zeros(len(s_ref), dtype=torch.long), 0,
                                             torch.qint8).int_repr()                      # (out, in)
        what = say(f"quantize_per_row(w) with w of shape {tuple(keep.shape)}",
                   f"quantize_per_row(w)（w 的形状为 {tuple(keep.shape)}）")
        kind = getattr(q, 'dtype', type(q).__name__)
        expect(isinstance(q, torch.Tensor) and q.dtype == torch.int8,
               en=f"{what.en}: q should be an int8 tensor (1 byte per weight); got {kind}.",
               zh=f"{what.zh}：q 应当是 int8 张量（每个权重 1 个字节）；得到 {kind}。")
        expect_close(torch.as_tensor(s).float(), s_ref, what=what + say(": the scales s", "：缩放因子 s"),
                     rtol=1e-6, atol=0, check_dtype=False)
        if torch.equal(q, torch.trunc(keep / s_ref[:, None]).to(torch.int8)) and not torch.equal(q, ref):
            raise CheckFailure(en=f"{what.en}: q was truncated toward zero; "
                                  "ROUND to the nearest integer (torch.round).",
                               zh=f"{what.zh}：q 是向零截断的；应*四舍五入*到最近的整数（torch.round）。")
        expect_close(q, ref, what=what + say(": q", "：q"), rtol=0, atol=0)


@exercise("15.3", name="distillation_loss", points=3)
def _check_distillation_loss(distillation_loss):
    """α·T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)) + (1-α)·CE(y, z_s), batch mean."""
    g = seeding.torch_generator(7)
    for n, T, alpha in ((6, 4.0, 0.9), (3, 1.0, 0.5), (5, 2.0, 1.0), (4, 3.0, 0.0)):
        zs = torch.randn(n, 10, generator=g, dtype=torch.float64, requires_grad=True)
        zt = torch.randn(n, 10, generator=g, dtype=torch.float64) * 3
        y = torch.randint(0, 10, (n,), generator=g)
        soft = F.kl_div(F.log_softmax(zs / T, -1), F.softmax(zt / T, -1), reduction="batchmean")
        expected = alpha * T * T * soft + (1 - alpha) * F.cross_entropy(zs, y)
        got = distillation_loss(zs, zt.clone(), y.clone(), temperature=T, alpha=alpha)
        call = f"distillation_loss(z_s, z_t, y, temperature={T}, alpha={alpha})"
        what = say(f"{call} on a batch of {n}", f"{call}，在 {n} 个样本的批次上")
        got_t = torch.as_tensor(got)
        no_t2 = alpha * soft + (1 - alpha) * F.cross_entropy(zs, y)
        if T != 1.0 and alpha > 0 and torch.allclose(got_t.double(), no_t2.detach(), rtol=1e-6):
            raise CheckFailure(en=f"{what.en}: the soft term is missing its factor T² = {T * T:g}.",
                               zh=f"{what.zh}：软目标项缺少因子 T² = {T * T:g}。")
        expect_close(got_t.detach().double().reshape(()), expected.detach(), what=what, rtol=1e-6, atol=1e-9,
                     check_dtype=False)
        if alpha > 0:
            expect(isinstance(got, torch.Tensor) and got.requires_grad,
                   en=f"{what.en}: the loss must stay differentiable in z_s (no .item() or numpy inside).",
                   zh=f"{what.zh}：损失必须对 z_s 保持可微（内部不能用 .item() 或 numpy）。")


# -- Check your understanding: questions (keys in the instructor's checks file) and a planted bug ---
question("15.4", name="answer_15_4", points=1, kind="choice", choices="abcd")
question("15.5", name="answer_15_5", points=1, kind="number")
outcome_task("15.6", name="train_pruned", points=3, order="given",
             practice={"target": 0.8, "seconds": 6, "n_train": 2000, "n_test": 1000})
