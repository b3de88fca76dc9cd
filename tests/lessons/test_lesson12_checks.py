"""Lesson 12's checks pass reference solutions and fail planted mistakes with a useful message; the
shuffle buffer of the exercise obeys TensorFlow's displacement bound, measured on TensorFlow itself."""
import numpy as np
import pytest
import torch

from lesson_status import status as _status


def minibatch_indices(n, batch_size, *, shuffle=True, drop_last=False, generator=None,
                      _mistake=None):
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    if _mistake == "in order":
        order = torch.arange(n)
    if _mistake == "reseed":
        order = torch.randperm(n, generator=torch.Generator().manual_seed(0)) if shuffle else order
    batches = list(order.split(batch_size))
    if _mistake == "within" and shuffle:
        batches = [b[torch.randperm(len(b), generator=generator)] for b in torch.arange(n).split(batch_size)]
    if drop_last and batches and len(batches[-1]) < batch_size and _mistake != "keep":
        batches = batches[:-1]
    return batches


def shuffle_buffer(items, buffer_size, randrange, *, drain="pop", stream="replace"):
    buffer = []
    for item in items:
        if len(buffer) < buffer_size:
            buffer.append(item)
            continue
        j = randrange(len(buffer))
        if stream == "replace":
            yield buffer[j]
            buffer[j] = item
        else:
            yield buffer.pop(j)
            buffer.append(item)
    if drain == "in order":
        yield from buffer
        return
    while buffer:
        yield buffer.pop(randrange(len(buffer)))


def normalize(image, label, *, standardise=True, channel=True, fixed_shape=False, label_dtype=None):
    from course import tf
    x = tf.cast(image, tf.float32) / 255.0
    if standardise:
        x = (x - 0.1307) / 0.3081
    if fixed_shape:
        x = tf.reshape(x, (6, 5, 1))
    elif channel:
        x = tf.expand_dims(x, -1)
    return x, tf.cast(label, label_dtype or tf.int64)


class ArrayDataset(torch.utils.data.Dataset):
    def __init__(self, images, labels, transform=None):
        self.images = torch.as_tensor(np.asarray(images))
        self.labels = torch.as_tensor(np.asarray(labels))
        self.transform = transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        image = self.images[i].float().div(255.0)[None]
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[i])


class NoChannel(ArrayDataset):
    def __getitem__(self, i):
        image, label = super().__getitem__(i)
        return image[0], label


class Eager(ArrayDataset):
    def __init__(self, images, labels, transform=None):
        super().__init__(images, labels, None)
        self.items = [(transform or (lambda t: t))(self.images[i].float().div(255.0)[None]) for i in range(len(images))]

    def __getitem__(self, i):
        return self.items[i], int(self.labels[i])


@pytest.mark.parametrize("eid, obj", [("12.1", minibatch_indices), ("12.2", shuffle_buffer), ("12.3", normalize),
                                      ("12.4", ArrayDataset)])
def test_reference_solutions_pass(eid, obj):
    assert _status(eid, obj) == ("passed", "")


@pytest.mark.parametrize("eid, obj, hint", [
    ("12.1", lambda n, b, **k: minibatch_indices(n, b, **k, _mistake="keep"), "left out"),
    ("12.1", lambda n, b, **k: minibatch_indices(n, b, **k, _mistake="in order"), "in order"),
    ("12.1", lambda n, b, **k: minibatch_indices(n, b, **k, _mistake="within"), "inside the batch"),
    ("12.1", lambda n, b, **k: minibatch_indices(n, b, **k, _mistake="reseed"), "re-seed"),
    ("12.1", lambda n, b, **k: [x.int() for x in minibatch_indices(n, b, **k)], "int64"),
    ("12.2", lambda it, b, r: shuffle_buffer(it, b, r, drain="in order"), "drain it at random"),
    ("12.2", lambda it, b, r: shuffle_buffer(it, b, r, stream="pop-append"), "chosen slot"),
    ("12.2", lambda it, b, r: list(it)[::-1], "same random draws"),
    ("12.2", lambda it, b, r: shuffle_buffer(list(it)[:len(it)], b, r), "iterator"),
    ("12.3", lambda x, y: normalize(x, y, standardise=False), "standardised"),
    ("12.3", lambda x, y: normalize(x, y, channel=False), "channel axis"),
    ("12.3", lambda x, y: normalize(x, y, fixed_shape=True), "whole batch"),
    ("12.3", lambda x, y: normalize(x, y, label_dtype="int32"), "int64"),
    ("12.4", NoChannel, "channels first"),
    ("12.4", Eager, "__getitem__"),
    ("12.4", object, "torch.utils.data.Dataset"),
])
def test_planted_mistakes_fail_with_a_hint(eid, obj, hint):
    status, message = _status(eid, obj)
    assert status == "failed", (status, message)
    assert hint in message, message


def test_unsolved_exercises_report_not_implemented():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    class Stub(torch.utils.data.Dataset):
        def __init__(self, *args, **kwargs):
            raise NotImplementedError()

    for eid, obj in (("12.1", stub), ("12.2", stub), ("12.3", stub), ("12.4", Stub)):
        assert _status(eid, obj)[0] == "not implemented"


@pytest.mark.parametrize("buffer_size", [1, 10, 100])
@pytest.mark.parametrize("which", ["course.tf", "exercise reference"])
def test_shuffle_obeys_tensorflows_displacement_bound(buffer_size, which):
    """out[k] <= k + B - 1 (an element cannot leave before it entered the buffer), as TensorFlow gives it
    (measured with tensorflow 2.21: max(out[k] - k) == B - 1 for B in 1, 10, 100 on range(1000))."""
    import random
    if which == "course.tf":
        from course import tf
        out = np.array(list(tf.data.Dataset.range(1000).shuffle(buffer_size, seed=1).as_numpy_iterator()))
    else:
        out = np.array(list(shuffle_buffer(range(1000), buffer_size, random.Random(1).randrange)))
    assert sorted(out.tolist()) == list(range(1000))
    assert (out - np.arange(1000)).max() == buffer_size - 1


@pytest.mark.parity
@pytest.mark.parametrize("buffer_size", [1, 10, 100])
def test_displacement_bound_matches_tensorflow(buffer_size):
    tf = pytest.importorskip("tensorflow")
    out = np.array(list(tf.data.Dataset.range(1000).shuffle(buffer_size, seed=1).as_numpy_iterator()))
    assert (out - np.arange(1000)).max() == buffer_size - 1


# -- Section 7: questions 12.5 and 12.6, planted bug 12.7 ----------------------------------------
from lesson_outcome import assert_bug_fails_and_fix_passes, question_verdicts, sgd_softmax  # noqa: E402


@pytest.mark.parametrize("eid, right, wrong", [("12.5", "b", "a"), ("12.6", 16, 15)])
def test_questions_recorded_then_scored_by_the_instructor_file(eid, right, wrong):
    keyless, good, (status, en, zh) = question_verdicts(eid, right, wrong)
    assert (keyless, good, status) == ("recorded", "passed", "failed")


def test_question_keys_match_what_tf_data_does():
    """The keys against the facade's tf.data (itself tested against TensorFlow's semantics)."""
    from course import tf
    assert len(list(tf.data.Dataset.range(1000).batch(64))) == 16
    labels = np.sort(np.repeat(np.arange(10), 600))
    first = np.array(list(tf.data.Dataset.from_tensor_slices(labels).shuffle(1024, seed=0).batch(100)
                          .take(1).as_numpy_iterator()))[0]
    assert set(first.tolist()) <= {0, 1}                                      # answer (b)
    _, good, _ = question_verdicts("12.5", "b", "a")
    assert good == "passed"


def test_planted_bug_12_7_fails_and_the_fix_passes():
    assert_bug_fails_and_fix_passes("12.7", lambda x, y, budget: sgd_softmax(x, y, budget, shuffle=False),
                                    lambda x, y, budget: sgd_softmax(x, y, budget))
