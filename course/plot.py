"""Figures the lessons show: curves, digits, confusion matrices, filters, trajectories.

Every function takes numpy arrays or tensors (any device), draws on a new or given matplotlib
Axes and returns the Figure, so notebooks can display it and scripts can save it.

Labels speak the edition's language. `label(en, zh)` returns the Chinese text when the language is
Chinese (`COURSE_LANG=zh`, which the Chinese edition's first generated cell sets) and a CJK font is
installed (Debian/Ubuntu `fonts-noto-cjk`, conda `font-ttf-noto-cjk`; any Noto/Source Han/WenQuanYi
CJK font found by matplotlib), and makes matplotlib use that font; without one it warns once and
returns the English text, so a figure never shows empty boxes. Every label of this module goes
through it.
"""
import os
import re
import warnings

import numpy as np

__all__ = ["history", "digits", "confusion_matrix", "confusion_counts", "filters", "feature_maps",
           "activations", "trajectories", "decision_boundary", "histograms", "language", "label",
           "cjk_font", "LANG_VARIABLE", "CJK_FONT_PACKAGES"]

LANG_VARIABLE = "COURSE_LANG"
CJK_FONT_PACKAGES = ("Debian/Ubuntu: apt-get install fonts-noto-cjk; "
                     "conda: conda install -c conda-forge font-ttf-noto-cjk")
# Family names of CJK fonts that cover Simplified Chinese, best first.
_CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
                 "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Serif CJK SC", "WenQuanYi Zen Hei",
                 "WenQuanYi Micro Hei", "Droid Sans Fallback", "SimHei", "Microsoft YaHei", "PingFang SC",
                 "Heiti SC", "Hiragino Sans GB", "AR PL UMing CN")
_CJK_FILE = re.compile(r"(cjk|wqy|wenquanyi|sourcehan|source-han|droidsansfallback|simhei|msyh|pingfang|"
                       r"hiragino|uming|ukai|notosanssc|notoserifsc)", re.IGNORECASE)
_state = {"font": None, "searched": False, "warned": False}


def language() -> str:
    """'zh' when COURSE_LANG names Chinese ('zh', 'zh_CN', 'zh-Hans', ...), else 'en'."""
    return "zh" if os.environ.get(LANG_VARIABLE, "").strip().lower().startswith("zh") else "en"


def cjk_font():
    """The family name of an installed font with Chinese glyphs, or None (looked up once).

    matplotlib's font cache may predate the font's installation, so font files with a CJK name in
    the system's font folders are registered when the cache has none."""
    if _state["searched"]:
        return _state["font"]
    _state["searched"] = True
    from matplotlib import font_manager
    known = {f.name for f in font_manager.fontManager.ttflist}
    if not any(name in known for name in _CJK_FAMILIES):
        for path in font_manager.findSystemFonts():
            if _CJK_FILE.search(os.path.basename(path)):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):     # unreadable or unsupported file: skip it
                    continue
        known = {f.name for f in font_manager.fontManager.ttflist}
    _state["font"] = next((name for name in _CJK_FAMILIES if name in known), None)
    return _state["font"]


def _use_font(family):
    import matplotlib
    fonts = list(matplotlib.rcParams["font.sans-serif"])
    if not fonts or fonts[0] != family:
        matplotlib.rcParams["font.sans-serif"] = [family] + [f for f in fonts if f != family]
    # A list of families: matplotlib takes each glyph from the first family that has it (the minus
    # sign, for one, is missing from some CJK fonts and comes from DejaVu Sans).
    matplotlib.rcParams["font.family"] = [family, "DejaVu Sans"]
    # Texts made before this call resolve their generic family to the CJK font alone: tick labels
    # then write negative numbers with an ASCII hyphen rather than a minus sign the font may lack.
    matplotlib.rcParams["axes.unicode_minus"] = False


def label(en: str, zh: str) -> str:
    """`zh` in the Chinese edition (with a CJK font installed and made matplotlib's), else `en`."""
    if language() != "zh":
        return en
    family = cjk_font()
    if family is None:
        if not _state["warned"]:
            _state["warned"] = True
            warnings.warn(f"{LANG_VARIABLE}=zh, but no font with Chinese glyphs is installed, so figure labels "
                          f"stay in English. Install one ({CJK_FONT_PACKAGES}) and restart the kernel.",
                          stacklevel=2)
        return en
    _use_font(family)
    return zh


def _np(x):
    """Tensor (any device, grad or not) or array-like -> numpy array."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _figure(ax=None, size=(6, 4)):
    import matplotlib.pyplot as plt
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=size)
    return fig, ax


VALIDATION_NAMES = {"validation": "验证集", "test": "测试集"}


def history(hist, metrics=None, *, title=None, test=None, val_data="validation"):
    """Loss and metric curves from a Keras `History`, its `.history` dict, or a dict of lists.

    One panel per metric; `val_<name>` is drawn beside `<name>` as a dashed line, named after
    `val_data` ("validation", or "test" when the test set was passed as validation_data), and `test`
    (e.g. `{"accuracy": 0.981}`, from `evaluate`) as a star after the last epoch. Epoch ticks are
    whole numbers.
    """
    if val_data not in VALIDATION_NAMES:
        raise ValueError(f"val_data must be one of {sorted(VALIDATION_NAMES)}, got {val_data!r}")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    logs = getattr(hist, "history", hist)
    test = test or {}
    names = metrics or [k for k in logs if not k.startswith("val_")]
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.5), squeeze=False)
    for ax, name in zip(axes[0], names):
        epochs = np.arange(1, len(logs[name]) + 1)
        ax.plot(epochs, logs[name], "o-", label=label(f"train {name}", f"训练集 {name}"))
        if f"val_{name}" in logs:
            ax.plot(epochs, logs[f"val_{name}"], "s--",
                    label=label(f"{val_data} {name}", f"{VALIDATION_NAMES[val_data]} {name}"))
        if name in test:
            ax.plot([len(epochs)], [float(test[name])], "*", markersize=12,
                    label=label(f"test {name}", f"测试集 {name}"))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(label("epoch", "轮次"))
        ax.set_title(name)
        ax.legend(loc="best")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def digits(images, labels=None, predictions=None, *, n=16, cols=8):
    """A grid of images; titles show the label, and the prediction in red when it is wrong."""
    import matplotlib.pyplot as plt
    images = _np(images)[:n]
    images = images.reshape(len(images), 28, 28) if images[0].size == 784 else images.squeeze()
    rows = int(np.ceil(len(images) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.3 * cols, 1.5 * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(images):
            continue
        ax.imshow(images[i], cmap="gray_r")
        title, color = "", "black"
        if labels is not None:                      # digits, or words such as "original"
            title = labels[i] if isinstance(labels[i], str) else str(int(_np(labels)[i]))
        if predictions is not None:
            p = int(_np(predictions)[i])
            wrong = labels is not None and p != int(_np(labels)[i])
            title = f"{title}→{p}" if labels is not None else str(p)
            color = "red" if wrong else "green"
        ax.set_title(title, color=color, fontsize=10)
    fig.tight_layout()
    return fig


def confusion_counts(y_true, y_pred, num_classes=10):
    """C[i, j] = number of samples of true class i predicted as j."""
    t, p = _np(y_true).astype(int).ravel(), _np(y_pred).astype(int).ravel()
    return np.bincount(t * num_classes + p, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def confusion_matrix(y_true, y_pred, num_classes=10, *, ax=None):
    """Heat map of `confusion_counts` with the counts written in the cells."""
    counts = confusion_counts(y_true, y_pred, num_classes)
    fig, ax = _figure(ax, (5.5, 5))
    ax.imshow(counts, cmap="Blues")
    for i in range(num_classes):
        for j in range(num_classes):
            ax.text(j, i, counts[i, j], ha="center", va="center", fontsize=7,
                    color="white" if counts[i, j] > counts.max() / 2 else "black")
    ax.set_xlabel(label("predicted", "预测"))
    ax.set_ylabel(label("true", "真实"))
    ax.set_xticks(range(num_classes))
    ax.set_yticks(range(num_classes))
    ax.set_title(label("accuracy", "准确率") + f" {np.trace(counts) / counts.sum():.4f}")
    return fig


def filters(kernel, *, channel=0, cols=8):
    """Conv kernels in TF layout (h, w, in, out): one small image per output filter."""
    import matplotlib.pyplot as plt
    k = _np(kernel)[:, :, channel, :]                                # (h, w, out)
    n = k.shape[-1]
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.2 * cols, 1.2 * rows), squeeze=False)
    lim = np.abs(k).max()
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(k[:, :, i], cmap="seismic", vmin=-lim, vmax=lim)
    fig.suptitle(label(f"{n} filters of shape {k.shape[0]}x{k.shape[1]}",
                       f"{n} 个形状为 {k.shape[0]}x{k.shape[1]} 的卷积核"))
    return fig


def feature_maps(maps, *, cols=8, n=32):
    """Feature maps of one image, NHWC (1, H, W, C) or HWC: one panel per channel."""
    import matplotlib.pyplot as plt
    m = _np(maps)
    m = m[0] if m.ndim == 4 else m                                  # (H, W, C)
    n = min(n, m.shape[-1])
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.2 * cols, 1.2 * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(m[:, :, i], cmap="viridis")
    return fig


def activations(functions: dict, *, x=None, ax=None):
    """Curves of activation functions given as {name: f(x) -> array}, with their derivatives if given
    as {name: (f, df)}."""
    x = np.linspace(-5, 5, 401) if x is None else _np(x)
    fig, ax = _figure(ax)
    for name, f in functions.items():
        f, df = (f if isinstance(f, tuple) else (f, None))
        line, = ax.plot(x, _np(f(x)), label=name)
        if df is not None:                                  # the derivative in its function's colour
            ax.plot(x, _np(df(x)), "--", color=line.get_color(), label=f"{name}'")
    ax.axhline(0, color="gray", lw=0.5)
    ax.axvline(0, color="gray", lw=0.5)
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


def trajectories(f, paths: dict, *, xlim=(-2, 2), ylim=(-2, 2), levels=30, ax=None):
    """Optimizer paths {name: (steps, 2) array} drawn over the contours of f(x, y) (numpy-vectorised)."""
    fig, ax = _figure(ax, (6, 5))
    X, Y = np.meshgrid(np.linspace(*xlim, 200), np.linspace(*ylim, 200))
    ax.contour(X, Y, f(X, Y), levels=levels, colors="0.55", linewidths=0.6)   # one grey: every level visible
    for name, path in paths.items():
        p = _np(path)
        line, = ax.plot(p[:, 0], p[:, 1], ".-", ms=3, label=name)
        ax.plot(p[-1, 0], p[-1, 1], "*", ms=10, color=line.get_color())   # the end, in the path's colour
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.legend()
    return fig


def decision_boundary(predict, X, y, *, ax=None, resolution=200):
    """Points coloured by label over the classifier's predicted probability; `predict` maps
    (M, 2) numpy -> (M,) or (M, 1) probabilities."""
    X, y = _np(X), _np(y).ravel()
    fig, ax = _figure(ax, (5, 4.5))
    pad = 0.1
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, resolution)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, resolution)
    gx, gy = np.meshgrid(xs, ys)
    p = _np(predict(np.c_[gx.ravel(), gy.ravel()])).reshape(gx.shape)
    # colours pinned to [0, 1] for the map and the labels alike: white is p = 0.5 in every figure
    cs = ax.contourf(gx, gy, p, levels=np.linspace(0, 1, 21), cmap="RdBu", alpha=0.6, extend="both")
    ax.contour(gx, gy, p, levels=[0.5], colors="k")
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu", vmin=0, vmax=1, edgecolors="k", s=20)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    fig.colorbar(cs, ax=ax, ticks=[0, 0.25, 0.5, 0.75, 1], label=label("predicted probability", "预测概率"))
    return fig


def histograms(values: dict, *, bins=50, log=False, shared=False):
    """One histogram per entry {name: array} (activations or gradient norms per layer).

    shared=True: the same bins and axes in every panel, so panels compare by eye (a distribution
    that shrinks from layer to layer shows as a narrowing spike, not as the same shape rescaled).
    """
    import matplotlib.pyplot as plt
    arrays = {name: _np(v).ravel() for name, v in values.items()}
    if shared:
        bins = np.histogram_bin_edges(np.concatenate(list(arrays.values())), bins=bins)
    fig, axes = plt.subplots(1, len(arrays), figsize=(3.2 * len(arrays), 2.8), squeeze=False,
                             sharex=shared, sharey=shared)
    for ax, (name, v) in zip(axes[0], arrays.items()):
        ax.hist(v, bins=bins, log=log)
        ax.set_title(f"{name}\n" + label(f"mean {v.mean():.3g}, std {v.std():.3g}",
                f"均值 {v.mean():.3g}，标准差 {v.std():.3g}"),
                     fontsize=9)
    fig.tight_layout()
    return fig


if language() == "zh":            # the Chinese edition sets COURSE_LANG before importing: figures made
    label("", "")                 # from now on use the CJK font (or warn once that there is none)
