"""Differential tests: how metrics reduce a batch to per-sample values, against real Keras 3.

Keras 3's `Mean` (and every `MeanMetricWrapper` such as BinaryAccuracy) first reduces each batch to one
value per sample (`reduce_to_samplewise_values`), then counts samples: an (N, k) batch adds N to the
count, and 2-D sample weights are averaged per sample. `binary_accuracy` itself is element-wise."""
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
pytest.importorskip("tensorflow")
import keras as real  # noqa: E402  (Keras 3, installed with tensorflow)

from course.tf import keras as ours  # noqa: E402

pytestmark = [pytest.mark.parity,
              pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")]

rng = np.random.RandomState(3)
Y = rng.randint(0, 2, 7).astype(np.float32)         # rank-1 labels and scores, as a squeezed model gives them
P = rng.rand(7).astype(np.float32)
W = rng.rand(7).astype(np.float32)


def _two_batches(lib, make, weighted):
    """Result after a batch of 4 then a batch of 3: unequal batches expose a per-batch (not per-sample) mean."""
    m = make(lib)
    m.update_state(Y[:4], P[:4], sample_weight=W[:4] if weighted else None)
    m.update_state(Y[4:], P[4:], sample_weight=W[4:] if weighted else None)
    return float(m.result())


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("make", [lambda lib: lib.metrics.BinaryAccuracy(),
                                  lambda lib: lib.metrics.BinaryAccuracy(threshold=0.3)],
                         ids=["default", "threshold"])
def test_binary_accuracy_on_rank1_batches_counts_samples_as_keras(make, weighted):
    # Before: each rank-1 batch became one mean value counted once (0.4167 for 0.4286 unweighted),
    # and sample weights raised a RuntimeError from torch's broadcast.
    expected = _two_batches(real, make, weighted)
    assert _two_batches(ours, make, weighted) == pytest.approx(expected, rel=1e-6)   # a few float32 sums


@pytest.mark.parametrize("name", ["Mean", "Sum"])
def test_mean_and_sum_reduce_weighted_2d_values_per_sample_as_keras(name):
    """[[4, 5]] weighted [[0.5, 2]] counts as ONE sample of value mean(4·0.5, 5·2) = 6 and weight 1.25
    (Keras), not two samples of weights 0.5 and 2 (what a flat weighted mean gives: 4.588 for 4.552)."""
    def run(lib):
        m = getattr(lib.metrics, name)()
        m.update_state([1.0, 2.0, 3.0])
        m.update_state(np.array([[4.0, 5.0]], np.float32), sample_weight=[[0.5, 2.0]])
        m.update_state(np.array([[1.0, 2.0], [3.0, 4.0]], np.float32), sample_weight=[2.0, 0.5])
        m.update_state(7.0, sample_weight=3.0)
        return float(m.result())
    assert run(ours) == pytest.approx(run(real), rel=1e-6)
