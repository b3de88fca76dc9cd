"""Checks for lesson 14, distributed training: the per-replica loss, ring all-reduce, data sharding."""
import torch

from course.exercises import seeding
from course.exercises.expect import CheckFailure, describe, expect, expect_close, say
from course.exercises.fixtures import Fixture
from course.exercises.registry import exercise
from course.exercises.remote import current

__all__ = []


@exercise("14.1", name="compute_average_loss", points=2)
def _check_compute_average_loss(compute_average_loss):
    """sum(per_example_loss) / global_batch_size, TensorFlow's per-replica convention."""
    g = seeding.torch_generator(3)
    for local, world in ((8, 1), (8, 4), (5, 3)):
        per_example = torch.rand(local, generator=g, dtype=torch.float64)
        keep = per_example.clone()
        got = compute_average_loss(per_example, global_batch_size=local * world)
        expected = keep.sum() / (local * world)
        what = say(f"compute_average_loss(per_example_loss of {local} samples, global_batch_size={local * world})",
                   f"compute_average_loss(per_example_loss（{local} 个样本）, global_batch_size={local * world})")
        if world > 1 and isinstance(got, torch.Tensor) and torch.allclose(got.double(), keep.mean(), atol=1e-12):
            raise CheckFailure(en=f"{what.en}: you returned the LOCAL mean; divide the local sum by the GLOBAL batch "
                                  f"size, so that the replicas' gradients, summed, give the global mean.",
                               zh=f"{what.zh}：你返回的是*本地*均值；请把本地的和除以*全局*批大小，"
                                  f"这样各副本的梯度相加后才等于全局均值。")
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
                                       f"torch.Generator().manual_seed(seed + epoch) and torch.randperm(n, generator=g).",
                   zh=f"{what}：期望 {expected}，得到 {got}。请用 torch.Generator().manual_seed(seed + epoch) "
                      f"和 torch.randperm(n, generator=g) 抽取排列。")
