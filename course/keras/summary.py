"""`model.summary()`: Keras 3's table (same rows, shapes and parameter counts), drawn in plain text."""
import textwrap

from course.framework.shapes import shape_text

__all__ = ["print_summary", "summary_rows", "readable_size"]

_WIDTHS = (31, 22, 13)


def readable_size(nbytes):
    """20.13 KB, as Keras prints memory sizes (powers of 1024)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if nbytes / 1024 < 1:
            return f"{nbytes:.2f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.2f} PB"


def _shape_text(shape):
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return "[" + ", ".join(_shape_text(s) for s in shape) + "]"
    return shape_text(shape)


def summary_rows(model):
    """[(name (type), output shape text, params text)] in display order."""
    rows = []
    layers = list(model.layers)
    for layer in layers:
        built = layer.built or bool(layer.weights)
        shape = layer._output_shape if built else None
        count = sum(w.numel() for w in layer.weights)
        params = f"{count:,}" if built else "0 (unbuilt)"
        if not model._summary_shows_inputs and type(layer).__name__ == "InputLayer":
            continue
        rows.append((f"{layer.name} ({type(layer).__name__})", _shape_text(shape), params))
    return rows


def _line(left, mid, right, fill):
    return left + mid.join(fill * (w + 2) for w in _WIDTHS) + right


def _cells(texts, sep):
    wrapped = [textwrap.wrap(t, w, break_long_words=True) or [""] for t, w in zip(texts, _WIDTHS)]
    height = max(len(c) for c in wrapped)
    out = []
    for i in range(height):
        parts = []
        for j, (cell, w) in enumerate(zip(wrapped, _WIDTHS)):
            text = cell[i] if i < len(cell) else ""
            parts.append(" " + (text.rjust(w) if j == 2 else text.ljust(w)) + " ")
        out.append(sep + sep.join(parts) + sep)
    return out


def _optimizer_counts(model):
    opt = getattr(model, "optimizer", None)
    if opt is None:
        return None
    if not opt.built:
        # a legacy .h5 load: Keras builds iterations (int64) and learning_rate (float32) only
        return (2, 12) if getattr(opt, "_built_from_file", False) else None
    floats = sum(int(v.numel()) for v in opt.variables[1:])     # learning_rate and the slots, float32
    return floats + 1, floats * 4 + 8          # + iterations (int64)


def print_summary(model, line_length=None, print_fn=None, show_trainable=False):
    emit = print_fn or print
    lines = [f'Model: "{model.name}"', _line("┏", "┳", "┓", "━")]
    lines += _cells(("Layer (type)", "Output Shape", "Param #"), "┃")
    lines.append(_line("┡", "╇", "┩", "━"))
    rows = summary_rows(model)
    for i, row in enumerate(rows):
        lines += _cells(row, "│")
        lines.append(_line("├", "┼", "┤", "─") if i < len(rows) - 1 else _line("└", "┴", "┘", "─"))
    if not rows:
        lines.append(_line("└", "┴", "┘", "─"))
    trainable = sum(w.numel() for w in model.trainable_weights)
    non_trainable = sum(w.numel() for w in model.non_trainable_weights)
    opt = _optimizer_counts(model)
    total = trainable + non_trainable + (opt[0] if opt else 0)
    total_bytes = 4 * (trainable + non_trainable) + (opt[1] if opt else 0)
    lines.append(f" Total params: {total:,} ({readable_size(total_bytes)})")
    lines.append(f" Trainable params: {trainable:,} ({readable_size(4 * trainable)})")
    lines.append(f" Non-trainable params: {non_trainable:,} ({readable_size(4 * non_trainable)})")
    if opt:
        lines.append(f" Optimizer params: {opt[0]:,} ({readable_size(opt[1])})")
    for line in lines:
        emit(line)
