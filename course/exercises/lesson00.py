"""Checks for lesson 00, setup and devices."""
import math

from course.exercises.expect import CheckFailure
from course.exercises.registry import exercise

__all__ = []


@exercise("0.1", name="keep_prob_to_rate", points=1)
def _check_keep_prob_to_rate(keep_prob_to_rate):
    """TF1's dropout keeps a unit with probability keep_prob; Keras and PyTorch drop it with
    probability rate = 1 - keep_prob."""
    for keep_prob in (1.0, 0.8, 0.5, 0.25):
        got = keep_prob_to_rate(keep_prob)
        try:
            value = float(got)
        except (TypeError, ValueError):
            raise CheckFailure(en=f"keep_prob_to_rate({keep_prob}): expected a number, got {got!r}.",
                               zh=f"keep_prob_to_rate({keep_prob})：期望一个数，得到 {got!r}。") from None
        expected = 1.0 - keep_prob
        if not math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-12):
            same = math.isclose(value, keep_prob) and keep_prob != 0.5
            hint = " (that is keep_prob itself: rate is the probability of dropping)" if same else ""
            hint_zh = "（这就是 keep_prob 本身：rate 是丢弃的概率）" if same else ""
            raise CheckFailure(en=f"keep_prob_to_rate({keep_prob}): expected {expected:g}, got {value:g}{hint}.",
                               zh=f"keep_prob_to_rate({keep_prob})：期望 {expected:g}，得到 {value:g}{hint_zh}。")
