"""Figure labels in the edition's language: course.plot.label and the CJK font it needs."""
import warnings

import matplotlib
import pytest

matplotlib.use("Agg")
import course.plot as plot  # noqa: E402


@pytest.fixture
def fresh(monkeypatch):
    """A clean language state: no COURSE_LANG, no font looked up yet, rcParams restored afterwards."""
    monkeypatch.delenv("COURSE_LANG", raising=False)
    monkeypatch.setattr(plot, "_state", {"font": None, "searched": False, "warned": False})
    with matplotlib.rc_context():
        yield monkeypatch


@pytest.mark.parametrize("value, lang", [(None, "en"), ("en", "en"), ("zh", "zh"), ("zh_CN", "zh"),
                                         ("zh-Hans", "zh"), ("ZH", "zh"), ("fr", "en")])
def test_language_comes_from_course_lang(fresh, value, lang):
    if value is not None:
        fresh.setenv("COURSE_LANG", value)
    assert plot.language() == lang


def test_english_by_default(fresh):
    assert plot.label("epoch", "轮次") == "epoch"


def test_the_chinese_edition_cell_switches_the_language(fresh):
    from course.notebooks.builder import LANG_CELL
    import os
    fresh.setenv("COURSE_LANG", os.environ.get("COURSE_LANG", ""))   # restored after the test
    exec(LANG_CELL, {})
    assert plot.language() == "zh"


def test_without_a_cjk_font_labels_stay_english_with_one_warning(fresh):
    fresh.setenv("COURSE_LANG", "zh")
    fresh.setattr(plot, "cjk_font", lambda: None)
    with pytest.warns(UserWarning, match="fonts-noto-cjk"):
        assert plot.label("epoch", "轮次") == "epoch"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert plot.label("loss", "损失") == "loss"                  # warned once only


def test_with_a_cjk_font_labels_are_chinese_and_the_font_is_used(fresh):
    fresh.setenv("COURSE_LANG", "zh")
    fresh.setattr(plot, "cjk_font", lambda: "Some CJK Sans")
    assert plot.label("epoch", "轮次") == "轮次"
    assert matplotlib.rcParams["font.sans-serif"][0] == "Some CJK Sans"
    assert matplotlib.rcParams["font.family"] == ["Some CJK Sans", "DejaVu Sans"]   # fallback for the rest
    fig = plot.history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]})
    ax = fig.axes[0]
    assert ax.get_xlabel() == "轮次"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["训练集 loss", "验证集 loss"]
    import numpy as np
    fig = plot.confusion_matrix(np.array([0, 1]), np.array([0, 1]), 2)
    assert fig.axes[0].get_xlabel() == "预测" and fig.axes[0].get_title().startswith("准确率")


def test_chinese_labels_render_without_missing_glyphs(fresh):
    fresh.setenv("COURSE_LANG", "zh")
    if plot.cjk_font() is None:
        pytest.skip("no CJK font installed (" + plot.CJK_FONT_PACKAGES + ")")
    import matplotlib.pyplot as plt
    title = plot.label("loss function", "损失函数与优化器")          # as in a lesson: the first label sets the font
    assert matplotlib.rcParams["axes.unicode_minus"] is False
    fig, ax = plt.subplots()
    ax.plot([-1, 0, 1], [0, 1, -1])                                  # negative tick labels
    ax.set_title(title)
    ax.set_xlabel(plot.label("epoch", "轮次 −1"))                    # a minus sign too
    with warnings.catch_warnings():
        warnings.simplefilter("error")                               # "Glyph ... missing from font(s)" fails
        fig.canvas.draw()
    plt.close(fig)
