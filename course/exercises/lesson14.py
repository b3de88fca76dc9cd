"""Checks for lesson 14, distributed training: the per-replica loss, ring all-reduce, data sharding."""
import torch

from course.exercises import seeding
from course.exercises.expect import CheckFailure, describe, expect, expect_close
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
        what = f"compute_average_loss(per_example_loss of {local} samples, global_batch_size={local * world})"
        if world > 1 and isinstance(got, torch.Tensor) and torch.allclose(got.double(), keep.mean(), atol=1e-12):
            raise CheckFailure(f"{what}: you returned the LOCAL mean; divide the local sum by the GLOBAL batch "
                               f"size, so that the replicas' gradients, summed, give the global mean.")
        expect_close(torch.as_tensor(got, dtype=torch.float64), expected, what=what, kind="torch", rtol=1e-9,
                     atol=1e-12, check_dtype=False)
    # The point of the convention: summed over the replicas, the losses give the global mean.
    batches = [torch.rand(4, generator=g, dtype=torch.float64) for _ in range(3)]
    total = sum(float(compute_average_loss(b.clone(), global_batch_size=12)) for b in batches)
    expect(abs(total - float(torch.cat(batches).mean())) < 1e-9,
           f"Summed over 3 replicas of 4 samples, compute_average_loss should give the mean over all 12; got "
           f"{total:.6f}, expected {float(torch.cat(batches).mean()):.6f}.")


def _replay(messages, keep, world, what):
    """Run the ring on the checks' side from the messages the learner's code sent: every step must
    have one message per worker to its right-hand neighbour, with the chunk the protocol names and
    the values the sender holds at that moment. Returns each worker's vector at the end."""
    chunks = [list(torch.tensor_split(t.clone(), world)) for t in keep]         # chunks[r][c]
    steps = 2 * (world - 1)
    for m in messages:
        ok = (isinstance(m, (tuple, list)) and len(m) == 5 and all(type(v) is int for v in m[:4])
              and isinstance(m[4], torch.Tensor))
        expect(ok, f"{what}: send(step, src, dst, index, chunk) takes four ints and a tensor; got a message "
                   f"{describe(m)}.")
    late = [m for m in messages if not 0 <= m[0] < steps]
    expect(not late, f"{what}: a message for step {late[0][0] if late else ''}; the ring has {steps} steps "
                     f"(0 to {steps - 1}).")
    for s in range(steps):
        gather = s >= world - 1
        phase = "all-gather" if gather else "reduce-scatter"
        sent = [m for m in messages if m[0] == s]
        if len(sent) != world:
            raise CheckFailure(f"{what}: step {s} ({phase}) should carry {world} messages, one from each worker to "
                               f"its right-hand neighbour, through send(...); your code sent {len(sent)} "
                               f"({len(messages)} in all, {steps * world} expected). The ring all-reduce moves "
                               f"chunks around the ring: a plain sum is not it.")
        for step, src, dst, index, chunk in sent:
            want = (src + 1 - (s - world + 1)) % world if gather else (src - s) % world
            expect(0 <= src < world and dst == (src + 1) % world and index == want,
                   f"{what}: step {s} ({phase}): worker {src} sent chunk {index} to worker {dst}; the ring sends "
                   f"chunk {want} to worker {(src + 1) % world}.")
            held = chunks[src][index]
            if chunk.shape != held.shape or not torch.allclose(chunk.double(), held.double(), rtol=1e-9, atol=1e-9):
                raise CheckFailure(f"{what}: step {s} ({phase}): worker {src} sent chunk {index} = "
                                   f"{describe(chunk)}, but at that step it holds {describe(held)}.")
        expect(sorted(m[1] for m in sent) == list(range(world)),
               f"{what}: step {s}: every worker sends exactly one message.")
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
        what = f"ring_allreduce(grads, send) with {world} workers and vectors of length {n}"
        if not isinstance(got, (list, tuple)) or len(got) != world:
            size = f" of length {len(got)}" if isinstance(got, (list, tuple)) else ""
            raise CheckFailure(f"{what}: expected a list of {world} tensors (one per worker), got "
                               f"{type(got).__name__}{size}.")
        for r, t in enumerate(got):
            if isinstance(t, torch.Tensor) and t.shape == expected.shape and world > 1 and \
                    torch.allclose(t, expected / world, atol=1e-9):
                raise CheckFailure(f"{what}: worker {r} holds the MEAN of the vectors; all-reduce with SUM gives "
                                   f"the sum (DDP divides by the world size afterwards).")
            expect_close(t, expected, what=f"{what}: worker {r}'s result", kind="torch", rtol=1e-9, atol=1e-9)
        replayed = _replay(log.messages, keep, world, what)
        for r, (t, mine) in enumerate(zip(got, replayed)):
            expect_close(t, mine, what=f"{what}: worker {r}'s result against the replay of your messages",
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
                raise CheckFailure(f"{what}: right indices, wrong order: expected {expected}, got {got}. Keep the "
                                   f"permutation's order (order[rank::world_size]).")
            if len(got) != len(expected):
                raise CheckFailure(f"{what}: expected {len(expected)} indices (every rank gets ceil(n / world_size), "
                                   f"padding with the first indices of the permutation), got {len(got)}: {got}.")
            expect(got == expected, f"{what}: expected {expected}, got {got}. Draw the permutation with "
                                    f"torch.Generator().manual_seed(seed + epoch) and torch.randperm(n, generator=g).")
