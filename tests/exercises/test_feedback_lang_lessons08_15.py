"""The checks of lessons 8 to 15 explain a wrong answer entirely in Chinese when asked to, with the
same numbers, shapes and code as the English: one typical mistake per exercise (the ones that need
no Keras model or files), run through the checks and rendered in both languages."""
import math
import re

import pytest
import torch

from course.exercises.checking import format_result, run_checks

_ENGLISH = re.compile(r"\b[a-z]{2,}\s+[a-z]{2,}\b")       # two English words in a row


def english_left(text: str) -> list[str]:
    """English prose left in `text` once code spans (`...`) are removed."""
    return _ENGLISH.findall(re.sub(r"`[^`]*`", "", text))


def _numbers(text: str) -> list[str]:
    """The numbers of a message (shapes, values, counts), sorted: Chinese word order may differ."""
    return sorted(re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", text))


def _keras_fans(shape):
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def _early_stopping(val_losses, patience, min_delta=0.0):
    best, best_epoch, wait = math.inf, 0, 0
    for epoch, value in enumerate(val_losses):
        wait += 1
        if epoch == 0 or value < best - min_delta:
            best, best_epoch, wait = value, epoch, 0
        elif wait >= max(patience, 1):
            return epoch, best_epoch
    return len(val_losses) - 1, best_epoch


def _max_pool_from_zero(x, pool_size=2, stride=None):
    s = stride or pool_size
    return torch.nn.functional.max_pool2d(x.permute(0, 3, 1, 2), pool_size, s).permute(0, 2, 3, 1).clamp(min=0)


def _shuffle_drained_in_order(items, buffer_size, randrange):
    buffer, out = [], []
    for item in items:
        if len(buffer) < buffer_size:
            buffer.append(item)
            continue
        j = randrange(len(buffer))
        out.append(buffer[j])
        buffer[j] = item
    return out + buffer


def _shard_unpadded(n, rank, world_size, *, epoch=0, seed=0):
    g = torch.Generator().manual_seed(seed + epoch)
    return torch.randperm(n, generator=g)[rank::world_size].tolist()


def _quantize_truncated(w):
    s = w.abs().amax(dim=1) / 127
    return torch.trunc(w / s[:, None]).to(torch.int8), s


def _distillation_without_t2(z_s, z_t, y, temperature=4.0, alpha=0.9):
    soft = torch.nn.functional.kl_div(torch.log_softmax(z_s / temperature, -1),
                                      torch.softmax(z_t / temperature, -1), reduction="batchmean")
    return alpha * soft + (1 - alpha) * torch.nn.functional.cross_entropy(z_s, y)


WRONG = [
    ("8.1", lambda shape: (shape[-2], shape[-1]) if len(shape) > 1 else (shape[0], shape[0])),   # no h·w
    ("8.2", lambda shape, generator=None: torch.empty(shape).uniform_(
        -1 / math.sqrt(_keras_fans(shape)[0]), 1 / math.sqrt(_keras_fans(shape)[0]), generator=generator)),
    ("9.3", lambda y_true, y_pred, c: (100.0 * (y_true == y_pred).double().mean().item(), torch.zeros(c, c))),
    ("10.1", lambda weights, l2=0.01: l2 * sum((w ** 2).sum() for w in weights) / 2),           # tf.nn.l2_loss
    ("10.3", lambda losses, patience, min_delta=0.0: tuple(e + 1 for e in _early_stopping(losses, patience,
                                                                                             min_delta))),
    ("11.1", lambda n, k, stride=1, padding="VALID": n // stride if padding.upper() == "SAME"
        else -(-(n - k + 1) // stride)),
    ("11.3", _max_pool_from_zero),
    ("12.2", _shuffle_drained_in_order),
    ("14.1", lambda per_example_loss, global_batch_size: per_example_loss.mean()),
    ("14.3", _shard_unpadded),
    ("15.2", _quantize_truncated),
    ("15.3", _distillation_without_t2),
]


@pytest.mark.parametrize("exercise, answer", WRONG, ids=[w[0] for w in WRONG])
def test_a_wrong_answer_is_explained_in_chinese(exercise, answer):
    r = run_checks(exercise, answer)
    assert r.status == "failed" and r.message, r
    en, zh = r.text("en"), r.text("zh")
    assert en == r.message and not re.search(r"[\u4e00-\u9fff]", en), en     # the English edition reads as before
    assert re.search(r"[\u4e00-\u9fff]", zh) and not english_left(zh), zh
    assert _numbers(zh) == _numbers(en), (en, zh)
    line = format_result(r, "zh")
    assert line.startswith(f"✗ 练习 {exercise}（0/") and not english_left(line), line
