"""Lesson 14's checks pass the reference solutions and fail planted mistakes with a useful message."""
import math

import pytest
import torch

from course.exercises import run_checks
from lesson_status import status as _status


def compute_average_loss(per_example_loss, global_batch_size):
    return per_example_loss.sum() / global_batch_size


def ring_allreduce(grads, send):
    W = len(grads)
    chunks = [list(torch.tensor_split(g.clone(), W)) for g in grads]
    for s in range(W - 1):
        sent = [chunks[r][(r - s) % W].clone() for r in range(W)]
        for r in range(W):
            send(s, r, (r + 1) % W, (r - s) % W, sent[r])
        for r in range(W):
            chunks[r][(r - 1 - s) % W] = chunks[r][(r - 1 - s) % W] + sent[(r - 1) % W]
    for s in range(W - 1):
        sent = [chunks[r][(r + 1 - s) % W].clone() for r in range(W)]
        for r in range(W):
            send(W - 1 + s, r, (r + 1) % W, (r + 1 - s) % W, sent[r])
        for r in range(W):
            chunks[r][(r - s) % W] = sent[(r - 1) % W]
    return [torch.cat(c) for c in chunks]


def shard(n, rank, world_size, *, epoch=0, seed=0):
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed + epoch)).tolist()
    total = math.ceil(n / world_size) * world_size
    return (order * math.ceil(total / n))[:total][rank:total:world_size]


@pytest.mark.parametrize("eid, fn", [("14.1", compute_average_loss), ("14.2", ring_allreduce), ("14.3", shard)])
def test_reference_solutions_pass(eid, fn):
    assert _status(eid, fn) == ("passed", "")


def test_stub_reports_not_implemented():
    def stub(*args, **kwargs):
        raise NotImplementedError()
    assert _status("14.2", stub)[0] == "not implemented"


def test_local_mean_is_named():
    status, message = _status("14.1", lambda per_example_loss, global_batch_size: per_example_loss.mean())
    assert status == "failed" and "LOCAL mean" in message


def test_allreduce_mean_and_plain_sum_fail():
    status, message = _status("14.2", lambda grads, send: [sum(grads) / len(grads)] * len(grads))
    assert status == "failed" and "MEAN" in message
    # The right numbers without the ring's messages: the replay of an empty log fails.
    status, message = _status("14.2", lambda grads, send: [sum(g.clone() for g in grads) for _ in grads])
    assert status == "failed" and "plain sum is not it" in message, message


def test_allreduce_messages_are_replayed():
    def wrong_chunk(grads, send):          # the right sums, but the all-gather's messages name other chunks
        def forged(step, src, dst, index, chunk):
            send(step, src, dst, (index + 1) % len(grads) if step >= len(grads) - 1 else index, chunk)
        return ring_allreduce(grads, forged)
    status, message = _status("14.2", wrong_chunk)
    assert status == "failed" and "the ring sends chunk" in message, message

    def sum_then_broadcast(grads, send):    # as many messages as the ring, but not its values
        total = sum(g.clone() for g in grads)
        W = len(grads)
        for s in range(2 * (W - 1)):
            for r in range(W):
                index = (r - s) % W if s < W - 1 else (r + 1 - (s - W + 1)) % W
                send(s, r, (r + 1) % W, index, torch.tensor_split(total, W)[index])
        return [total.clone() for _ in grads]
    status, message = _status("14.2", sum_then_broadcast)
    assert status == "failed" and "at that step it holds" in message, message


def test_shard_mistakes_are_named():
    def no_padding(n, rank, world_size, *, epoch=0, seed=0):
        order = torch.randperm(n, generator=torch.Generator().manual_seed(seed + epoch)).tolist()
        return order[rank::world_size]
    status, message = _status("14.3", no_padding)
    assert status == "failed" and "padding" in message

    def contiguous(n, rank, world_size, *, epoch=0, seed=0):
        full = shard(n, 0, 1, epoch=epoch, seed=seed)
        k = math.ceil(n / world_size)
        return (full * 2)[rank * k:(rank + 1) * k]
    assert _status("14.3", contiguous)[0] == "failed"
