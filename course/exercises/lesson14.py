"""Checks for lesson 14, distributed training: the per-replica loss, ring all-reduce, data sharding."""
import torch

from course.exercises import seeding
from course.exercises.expect import CheckFailure, as_tensor, describe, expect, expect_close, say
from course.exercises.fixtures import Fixture
from course.exercises.outcome import outcome_task
from course.exercises.questions import question
from course.exercises.registry import exercise
from course.exercises.remote import current

__all__ = ["reference_average_loss"]


def reference_average_loss(per_example_loss, sample_weight=None, global_batch_size=None):
    """tf.nn.compute_average_loss outside a strategy (one replica), written out in torch: the losses
    times the sample weights (broadcast), summed over every axis, divided by the global batch size
    (by default the number of rows); a global batch size of 0 gives 0 (TF's div_no_nan).
    tests/lessons/test_lesson14_checks.py proves it against real TensorFlow."""
    losses = per_example_loss if sample_weight is None else per_example_loss * sample_weight
    size = losses.shape[0] if global_batch_size is None else global_batch_size
    return losses.sum() / size if size else losses.sum() * 0


def _cases(g):
    """(description en, zh, per_example_loss, kwargs) of the 14.1 check, drawn from `g`."""
    r = lambda *shape: torch.rand(*shape, generator=g, dtype=torch.float64)       # noqa: E731
    w4, w5 = r(4), (r(5) > 0.5).double()
    return [("8 losses, global_batch_size=8 (one replica)", "8 个损失，global_batch_size=8（一个副本）",
             r(8), {"global_batch_size": 8}),
            ("8 losses, global_batch_size=32 (4 replicas)", "8 个损失，global_batch_size=32（4 个副本）",
             r(8), {"global_batch_size": 32}),
            ("5 losses, global_batch_size=15", "5 个损失，global_batch_size=15", r(5), {"global_batch_size": 15}),
            ("6 losses, no global_batch_size (the local batch is the global one)",
             "6 个损失，不给 global_batch_size（本地批次即全局批次）", r(6), {}),
            ("4 losses with sample_weight (4,), global_batch_size=8",
             "4 个损失，sample_weight 形状 (4,)，global_batch_size=8",
             r(4), {"sample_weight": w4, "global_batch_size": 8}),
            ("5 losses with 0/1 sample weights, global_batch_size=10",
             "5 个损失，样本权重为 0/1，global_batch_size=10", r(5), {"sample_weight": w5, "global_batch_size": 10}),
            ("4 losses with a scalar sample_weight 0.5, no global_batch_size",
             "4 个损失，标量 sample_weight 0.5，不给 global_batch_size", r(4),
             {"sample_weight": torch.tensor(0.5, dtype=torch.float64)}),
            ("losses of shape (3, 2) (two per sample), global_batch_size=6",
             "形状为 (3, 2) 的损失（每个样本两个），global_batch_size=6", r(3, 2), {"global_batch_size": 6})]


@exercise("14.1", name="compute_average_loss", points=2)
def _check_compute_average_loss(compute_average_loss):
    """tf.nn.compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None) on
    several cases against `reference_average_loss` (the semantics of TensorFlow's function)."""
    g = seeding.torch_generator(3)
    for en, zh, losses, kwargs in _cases(g):
        keep = losses.clone()
        weights = kwargs.get("sample_weight")
        got = compute_average_loss(losses, **kwargs)
        expected = reference_average_loss(keep, **kwargs)
        what = say(f"compute_average_loss on {en}", f"compute_average_loss（{zh}）")
        t = as_tensor(got)
        if t is not None and t.numel() == 1:
            value, world = float(t), kwargs.get("global_batch_size")
            local = keep if weights is None else keep * weights
            if world and world != keep.shape[0] and abs(value - float(local.sum()) / keep.shape[0]) < 1e-9 \
                    and abs(value - float(expected)) > 1e-9:      # all weights 0: both means are 0, and right
                raise CheckFailure(en=f"{what.en}: you returned the LOCAL mean; divide the local sum by the GLOBAL "
                                      f"batch size, so that the replicas' gradients, summed, give the global mean.",
                                   zh=f"{what.zh}：你返回的是*本地*均值；请把本地的和除以*全局*批大小，"
                                      f"这样各副本的梯度相加后才等于全局均值。")
            if weights is not None and abs(value - reference_average_loss(keep, None, world).item()) < 1e-9 \
                    and abs(value - float(expected)) > 1e-9:
                raise CheckFailure(en=f"{what.en}: the sample weights were ignored; multiply each loss by its weight "
                                      f"before summing (the sum is still divided by the batch size, not by the sum of "
                                      f"the weights).",
                                   zh=f"{what.zh}：样本权重被忽略了；求和之前请把每个损失乘以它的权重"
                                      f"（和仍然除以批大小，而不是除以权重之和）。")
            if weights is not None and float((keep.new_ones(keep.shape) * weights).sum()) > 0 and abs(
                    value - float(local.sum() / (keep.new_ones(keep.shape) * weights).sum())) < 1e-9 \
                    and abs(value - float(expected)) > 1e-9:
                raise CheckFailure(en=f"{what.en}: you divided by the sum of the weights; TensorFlow divides the "
                                      f"weighted sum by the global batch size.",
                                   zh=f"{what.zh}：你除以了权重之和；TensorFlow 是把加权和除以全局批大小。")
        if t is not None and t.numel() != 1:
            raise CheckFailure(en=f"{what.en}: expected one number (a 0-d tensor), got {describe(got)}.",
                               zh=f"{what.zh}：期望得到一个数（0 维张量），得到的是 {describe(got, lang='zh')}。")
        expect_close(torch.as_tensor(got, dtype=torch.float64), expected, what=what, kind="torch", rtol=1e-9,
                     atol=1e-12, check_dtype=False)
    # The point of the convention: summed over the replicas, the losses give the global mean.
    batches = [torch.rand(4, generator=g, dtype=torch.float64) for _ in range(3)]
    total = sum(float(compute_average_loss(b.clone(), global_batch_size=12)) for b in batches)
    expect(abs(total - float(torch.cat(batches).mean())) < 1e-9,
           en=f"Summed over 3 replicas of 4 samples, compute_average_loss should give the mean over all 12; got "
              f"{total:.6f}, expected {float(torch.cat(batches).mean()):.6f}.",
           zh=f"对 3 个各有 4 个样本的副本求和后，compute_average_loss 应给出全部 12 个样本的均值；"
              f"得到 {total:.6f}，期望 {float(torch.cat(batches).mean()):.6f}。")


def _replay(messages, keep, world, what):
    """Run the ring on the checks' side from the messages the learner's code sent: every step must
    have one message per worker to its right-hand neighbour, with the chunk the protocol names and
    the values the sender holds at that moment. Returns each worker's vector at the end."""
    chunks = [list(torch.tensor_split(t.clone(), world)) for t in keep]         # chunks[r][c]
    steps = 2 * (world - 1)
    for m in messages:
        ok = (isinstance(m, (tuple, list)) and len(m) == 5 and all(type(v) is int for v in m[:4])
              and isinstance(m[4], torch.Tensor))
        expect(ok, en=f"{what.en}: send(step, src, dst, index, chunk) takes four ints and a tensor; got a message "
                      f"{describe(m)}.",
               zh=f"{what.zh}：send(step, src, dst, index, chunk) 接收四个整数和一个张量；"
                  f"收到的消息是 {describe(m, lang='zh')}。")
    late = [m for m in messages if not 0 <= m[0] < steps]
    bad_step = late[0][0] if late else ''
    expect(not late, en=f"{what.en}: a message for step {bad_step}; the ring has {steps} steps (0 to {steps - 1}).",
           zh=f"{what.zh}：有一条第 {bad_step} 步的消息；环一共只有 {steps} 步（0 到 {steps - 1}）。")
    for s in range(steps):
        gather = s >= world - 1
        phase = "all-gather" if gather else "reduce-scatter"
        phase_zh = "全收集" if gather else "归约-散射"
        sent = [m for m in messages if m[0] == s]
        if len(sent) != world:
            raise CheckFailure(en=f"{what.en}: step {s} ({phase}) should carry {world} messages, one from each worker "
                                  f"to its right-hand neighbour, through send(...); your code sent {len(sent)} "
                                  f"({len(messages)} in all, {steps * world} expected). The ring all-reduce moves "
                                  f"chunks around the ring: a plain sum is not it.",
                               zh=f"{what.zh}：第 {s} 步（{phase_zh}）应通过 send(...) 传递 {world} 条消息，"
                                  f"每个工作者向它右边的邻居发送一条；你的代码发送了 {len(sent)} 条"
                                  f"（总共 {len(messages)} 条，期望 {steps * world} 条）。环形全归约是让数据块"
                                  f"沿着环传递：直接求和不是环形全归约。")
        for step, src, dst, index, chunk in sent:
            want = (src + 1 - (s - world + 1)) % world if gather else (src - s) % world
            expect(0 <= src < world and dst == (src + 1) % world and index == want,
                   en=f"{what.en}: step {s} ({phase}): worker {src} sent chunk {index} to worker {dst}; the ring "
                      f"sends chunk {want} to worker {(src + 1) % world}.",
                   zh=f"{what.zh}：第 {s} 步（{phase_zh}）：工作者 {src} 把第 {index} 块发给了工作者 {dst}；"
                      f"按照环的规则，应把第 {want} 块发给工作者 {(src + 1) % world}。")
            held = chunks[src][index]
            if chunk.shape != held.shape or not torch.allclose(chunk.double(), held.double(), rtol=1e-9, atol=1e-9):
                raise CheckFailure(en=f"{what.en}: step {s} ({phase}): worker {src} sent chunk {index} = "
                                      f"{describe(chunk)}, but at that step it holds {describe(held)}.",
                                   zh=f"{what.zh}：第 {s} 步（{phase_zh}）：工作者 {src} 发送的第 {index} 块是 "
                                      f"{describe(chunk, lang='zh')}，但在这一步它持有的是 "
                                      f"{describe(held, lang='zh')}。")
        expect(sorted(m[1] for m in sent) == list(range(world)),
               en=f"{what.en}: step {s}: every worker sends exactly one message.",
               zh=f"{what.zh}：第 {s} 步：每个工作者必须恰好发送一条消息。")
        for _, src, dst, index, chunk in sent:            # all sent at once, then applied
            chunks[dst][index] = chunk.double() if gather else chunks[dst][index] + chunk.double()
    return [torch.cat(c) for c in chunks]


@exercise("14.2", name="ring_allreduce", points=3)
def _check_ring_allreduce(ring_allreduce):
    """W vectors in, W copies of their sum out, computed by the ring's 2(W-1) steps: the messages
    sent through `send` are replayed here and must produce what the function returns."""
    g = seeding.torch_generator(142)
    for world, n in ((1, 5), (2, 6), (3, 7), (4, 16), (5, 3)):
        grads = [torch.randn(n, generator=g, dtype=torch.float64) for _ in range(world)]
        keep = [t.clone() for t in grads]
        log = current().make(Fixture("message_log"))
        got = ring_allreduce([t.clone() for t in grads], log)
        expected = torch.stack(keep).sum(dim=0)                                      # (n,)
        what = say(f"ring_allreduce(grads, send) with {world} workers and vectors of length {n}",
                   f"ring_allreduce(grads, send)，{world} 个工作者，向量长度为 {n}")
        if not isinstance(got, (list, tuple)) or len(got) != world:
            size = f" of length {len(got)}" if isinstance(got, (list, tuple)) else ""
            size_zh = f"（长度为 {len(got)}）" if isinstance(got, (list, tuple)) else ""
            raise CheckFailure(en=f"{what.en}: expected a list of {world} tensors (one per worker), got "
                                  f"{type(got).__name__}{size}.",
                               zh=f"{what.zh}：期望一个包含 {world} 个张量的列表（每个工作者一个），得到 "
                                  f"{type(got).__name__}{size_zh}。")
        for r, t in enumerate(got):
            if isinstance(t, torch.Tensor) and t.shape == expected.shape and world > 1 and \
                    torch.allclose(t, expected / world, atol=1e-9):
                raise CheckFailure(en=f"{what.en}: worker {r} holds the MEAN of the vectors; all-reduce with SUM "
                                      f"gives the sum (DDP divides by the world size afterwards).",
                                   zh=f"{what.zh}：工作者 {r} 持有的是这些向量的*均值*；用 SUM 做全归约得到的是和"
                                      f"（DDP 之后才除以工作者总数）。")
            expect_close(t, expected, what=say(f"{what.en}: worker {r}'s result", f"{what.zh}：工作者 {r} 的结果"),
                         kind="torch", rtol=1e-9, atol=1e-9)
        replayed = _replay(log.messages, keep, world, what)
        for r, (t, mine) in enumerate(zip(got, replayed)):
            expect_close(t, mine, what=say(f"{what.en}: worker {r}'s result against the replay of your messages",
                                           f"{what.zh}：工作者 {r} 的结果与按你的消息重放的结果比较"),
                         kind="torch", rtol=1e-9, atol=1e-9, check_dtype=False)


@exercise("14.3", name="shard", points=2)
def _check_shard(shard):
    """DistributedSampler's indices for one rank and epoch (shuffle, seed, padding)."""
    from torch.utils.data import DistributedSampler
    for n, world, epoch, seed in ((10, 2, 0, 0), (10, 3, 1, 0), (7, 4, 2, 5), (12, 4, 0, 3), (3, 5, 0, 0)):
        for rank in range(world):
            ref = DistributedSampler(range(n), num_replicas=world, rank=rank, shuffle=True, seed=seed)
            ref.set_epoch(epoch)
            expected = list(ref)
            got = shard(n, rank, world, epoch=epoch, seed=seed)
            got = got.tolist() if isinstance(got, torch.Tensor) else list(got)
            what = f"shard({n}, rank={rank}, world_size={world}, epoch={epoch}, seed={seed})"
            if sorted(got) == sorted(expected) and got != expected:
                raise CheckFailure(en=f"{what}: right indices, wrong order: expected {expected}, got {got}. Keep the "
                                      f"permutation's order (order[rank::world_size]).",
                                   zh=f"{what}：索引对了，顺序不对：期望 {expected}，得到 {got}。请保持排列中的顺序"
                                      f"（order[rank::world_size]）。")
            if len(got) != len(expected):
                raise CheckFailure(en=f"{what}: expected {len(expected)} indices (every rank gets ceil(n / "
                                      f"world_size), padding with the first indices of the permutation), got "
                                      f"{len(got)}: {got}.",
                                   zh=f"{what}：期望 {len(expected)} 个索引（每个 rank 得到 ceil(n / world_size) 个，"
                                      f"不足时用排列开头的索引补齐），得到 {len(got)} 个：{got}。")
            expect(got == expected, en=f"{what}: expected {expected}, got {got}. Draw the permutation with "
                                       f"torch.Generator().manual_seed(seed + epoch) "
                                       "and torch.randperm(n, generator=g).",
                   zh=f"{what}：期望 {expected}，得到 {got}。请用 torch.Generator().manual_seed(seed + epoch) "
                      f"和 torch.randperm(n, generator=g) 抽取排列。")


# -- Section 6: conceptual questions (keys in the instructor's checks file) and an outcome task -----
question("14.4", name="answer_14_4", points=1, kind="choice", choices="abcd")
question("14.5", name="answer_14_5", points=1, kind="number")
outcome_task("14.6", name="train_data_parallel", points=3, order="given",
             practice={"target": 0.8, "seconds": 6, "n_train": 2000, "n_test": 1000})
