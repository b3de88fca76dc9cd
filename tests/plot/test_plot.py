"""Figures draw without error and show what they claim (checked on the drawn artists)."""
import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")
import course.plot as plot  # noqa: E402


def test_confusion_counts_match_a_direct_count():
    t = np.array([0, 1, 2, 2, 1])
    p = np.array([0, 2, 2, 2, 1])
    c = plot.confusion_counts(t, p, 3)
    assert c.tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 2]]
    fig = plot.confusion_matrix(torch.tensor(t), torch.tensor(p), 3)
    assert "0.8000" in fig.axes[0].get_title()


def test_history_draws_train_and_validation():
    fig = plot.history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8]})
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 2


def test_history_ticks_whole_epochs_and_marks_the_test_score():
    fig = plot.history({"loss": [1.0, 0.6, 0.5], "accuracy": [0.5, 0.8, 0.85]}, test={"accuracy": 0.83})
    fig.canvas.draw()
    for ax in fig.axes:
        ticks = [t for t in ax.get_xticks() if 1 <= t <= 3]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
    test_line = fig.axes[1].lines[-1]
    assert test_line.get_label() == "test accuracy" and list(test_line.get_ydata()) == [0.83]
    assert len(fig.axes[0].lines) == 1                                  # no test loss given, none drawn


def test_digits_marks_wrong_predictions_red():
    fig = plot.digits(torch.zeros(2, 784), [1, 2], [1, 3], n=2, cols=2)
    colors = [ax.title.get_color() for ax in fig.axes[:2]]
    assert colors == ["green", "red"]


def test_other_figures_draw():
    plot.filters(np.random.randn(5, 5, 1, 8))
    plot.feature_maps(torch.randn(1, 14, 14, 4))
    plot.activations({"relu": lambda x: np.maximum(x, 0), "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2)})
    plot.trajectories(lambda x, y: x ** 2 + 3 * y ** 2, {"sgd": np.random.randn(10, 2)})
    plot.decision_boundary(lambda g: (g.sum(1) < 1).astype(float), np.random.rand(20, 2), np.random.rand(20) > 0.5)
    plot.histograms({"a": np.random.randn(100), "b": torch.randn(50)})


def test_decision_boundary_colours_mean_the_same_probability_in_every_figure():
    # a classifier whose outputs only span 0.36..0.99 must still paint p = 0.5 white, not p = 0.67
    fig = plot.decision_boundary(lambda g: 0.36 + 0.63 * g[:, :1], np.random.rand(30, 2), np.arange(30) % 2)
    ax = fig.axes[0]
    filled = next(c for c in ax.get_children() if hasattr(c, "levels") and len(c.levels) > 2)
    assert filled.levels[0] == 0 and filled.levels[-1] == 1 and 0.5 in filled.levels
    assert (filled.norm.vmin, filled.norm.vmax) == (0, 1)
    dots = ax.collections[-1]
    assert (dots.norm.vmin, dots.norm.vmax) == (0, 1)
    assert ax.get_xlabel() and ax.get_ylabel()


def test_history_names_the_dashed_curve_after_the_data_it_was_measured_on():
    logs = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}
    assert [t.get_text() for t in plot.history(logs).axes[0].get_legend().get_texts()] == \
        ["train loss", "validation loss"]
    assert [t.get_text() for t in plot.history(logs, val_data="test").axes[0].get_legend().get_texts()] == \
        ["train loss", "test loss"]
    with pytest.raises(ValueError, match="val_data must be one of"):
        plot.history(logs, val_data="holdout")


def test_shared_histograms_use_the_same_bins_and_axes():
    wide, narrow = np.random.default_rng(0).normal(size=1000), np.random.default_rng(1).normal(size=1000) * 1e-3
    fig = plot.histograms({"wide": wide, "narrow": narrow}, bins=20, shared=True)
    a, b = fig.axes
    assert a.get_xlim() == b.get_xlim() and a.get_ylim() == b.get_ylim()
    widths = {round(p.get_width(), 12) for ax in (a, b) for p in ax.patches}
    assert len(widths) == 1                                   # one bin width in both panels
    free = plot.histograms({"wide": wide, "narrow": narrow}, bins=20)
    assert free.axes[0].get_xlim() != free.axes[1].get_xlim()


def test_digit_titles_may_be_words():
    fig = plot.digits(np.zeros((2, 28, 28)), ["original", 3])
    assert [ax.get_title() for ax in fig.axes[:2]] == ["original", "3"]
