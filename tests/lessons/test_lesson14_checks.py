"""Lesson 14's checks pass the reference solutions and fail planted mistakes with a useful message."""
import math

import pytest
import torch

from course.exercises import run_checks
from lesson_status import status as _status


def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None):
    if sample_weight is not None:
        per_example_loss = per_example_loss * sample_weight
    if global_batch_size is None:
        global_batch_size = per_example_loss.shape[0]
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


def test_a_right_average_loss_passes_whatever_the_run_seed():
    """Each grading run draws its own cases. When all five 0/1 weights come out 0 (1 run in 32),
    the local and the global mean are both 0: a right answer must not be called the LOCAL mean."""
    failed = [(seed, r.message) for seed in range(200)
              if (r := run_checks("14.1", compute_average_loss, seed=seed)).status != "passed"]
    assert not failed, failed[:3]


def test_local_mean_is_named():
    status, message = _status("14.1", lambda per_example_loss, global_batch_size: per_example_loss.mean())
    assert status == "failed" and "LOCAL mean" in message


def test_sample_weight_mistakes_are_named():
    def ignores_weights(per_example_loss, sample_weight=None, global_batch_size=None):
        return compute_average_loss(per_example_loss, None, global_batch_size)
    status, message = _status("14.1", ignores_weights)
    assert status == "failed" and "sample weights were ignored" in message, message

    def divides_by_weights(per_example_loss, sample_weight=None, global_batch_size=None):
        if sample_weight is None:
            return compute_average_loss(per_example_loss, None, global_batch_size)
        return (per_example_loss * sample_weight).sum() / (torch.ones_like(per_example_loss) * sample_weight).sum()
    status, message = _status("14.1", divides_by_weights)
    assert status == "failed" and "sum of the weights" in message, message

    def needs_global(per_example_loss, sample_weight=None, global_batch_size=None):
        return compute_average_loss(per_example_loss, sample_weight, global_batch_size or 1)
    status, message = _status("14.1", needs_global)
    assert status == "failed" and "no global_batch_size" in message, message

    def old_signature(per_example_loss, global_batch_size):
        return per_example_loss.sum() / global_batch_size
    assert _status("14.1", old_signature)[0] == "error"


@pytest.mark.parity
def test_reference_average_loss_is_tensorflows():
    """The check's reference against real tf.nn.compute_average_loss on every case the check uses."""
    tf = pytest.importorskip("tensorflow")
    from course.exercises import seeding
    from course.exercises.lesson14 import _cases, reference_average_loss
    for en, _, losses, kwargs in _cases(seeding.torch_generator(3)):
        tf_kwargs = {k: (tf.constant(v.numpy()) if isinstance(v, torch.Tensor) else v) for k, v in kwargs.items()}
        want = tf.nn.compute_average_loss(tf.constant(losses.numpy()), **tf_kwargs).numpy()
        # TensorFlow multiplies by the weights in float32 (scale_losses_by_sample_weight) before casting back
        rel = 1e-6 if "sample_weight" in kwargs else 1e-12
        assert float(reference_average_loss(losses, **kwargs)) == pytest.approx(float(want), rel=rel, abs=1e-15), en
    # global_batch_size 0: TensorFlow's div_no_nan gives 0
    zero = tf.nn.compute_average_loss(tf.constant([1.0, 2.0], tf.float64), global_batch_size=0).numpy()
    assert float(zero) == float(reference_average_loss(torch.tensor([1.0, 2.0], dtype=torch.float64),
                                                       global_batch_size=0)) == 0.0


# -- Section 6: questions 14.4 and 14.5, outcome task 14.6 ---------------------------------------
from lesson_outcome import instructor, question_verdicts, sgd_softmax  # noqa: E402


@pytest.mark.parametrize("eid, right, wrong", [("14.4", "b", "a"), ("14.5", 14, 7)])
def test_questions_recorded_then_scored_by_the_instructor_file(eid, right, wrong):
    keyless, good, (status, en, zh) = question_verdicts(eid, right, wrong)
    assert (keyless, good, status) == ("recorded", "passed", "failed")


def test_question_14_5_key_is_the_rings_step_count():
    """Count the steps of the reference ring (the messages it sends) on 8 workers."""
    steps = set()
    ring_allreduce([torch.zeros(16) for _ in range(8)], lambda step, *rest: steps.add(step))
    _, good, _ = question_verdicts("14.5", len(steps), 0)
    assert len(steps) == 14 and good == "passed"


def test_outcome_14_6_data_parallel_reference_reaches_the_target():
    def train(x, y, budget):
        def loss_fn(z, t):      # two replicas, each scaled by the global batch, summed
            parts = torch.tensor_split(torch.arange(len(t)), 2)
            per = torch.nn.functional.cross_entropy(z, t, reduction="none")
            return sum(compute_average_loss(per[p], global_batch_size=len(t)) for p in parts)
        return sgd_softmax(x, y, budget, loss_fn=loss_fn)
    with instructor(seconds=4):
        assert run_checks("14.6", train).status == "passed"


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
