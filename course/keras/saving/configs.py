"""Model configs as Keras 3 stores them: JSON parsed within limits, and the compile settings applied.

A config is read within limits: at most 32 MiB and 100 levels deep, and it must be a JSON object
with 'class_name' and 'config'. Everything wrong with a file is one `SavingError` naming it.
"""
import json

from course.keras import losses as losses_module
from course.keras import metrics as metrics_module
from course.keras import optimizers as optimizers_module

__all__ = ["SavingError", "KERAS_VERSION", "MAX_CONFIG_BYTES", "MAX_CONFIG_DEPTH", "parse_config", "compile_saved"]

MAX_CONFIG_BYTES = 32 << 20     # a model config is kilobytes; this leaves room for thousands of layers
MAX_CONFIG_DEPTH = 100          # JSON nesting; a Keras config nests a few levels per sub-model
KERAS_VERSION = "3.15.1"        # the Keras release whose format this writes (read back by Keras >= 3.0)


class SavingError(ValueError):
    """A file that is not a readable Keras 3 model or weights file."""


def parse_config(raw, where, *, model=True):
    """A model config (or, with model=False, any JSON object) from JSON text/bytes: size, nesting and
    shape checked, as one SavingError."""
    if len(raw) > MAX_CONFIG_BYTES:
        raise SavingError(f"{where} is {len(raw):,} bytes; a model config is at most {MAX_CONFIG_BYTES:,}. "
                          "The file is corrupt or not a Keras model.")
    try:
        entry = json.loads(raw)
    except RecursionError:
        raise SavingError(f"{where} is nested more than {MAX_CONFIG_DEPTH} levels deep; a Keras config never is. "
                          "The file is corrupt or hostile.") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise SavingError(f"{where} is not valid JSON ({exc}); the file is corrupt. Save the model again.") from None
    stack = [(entry, 1)]
    while stack:                                   # no recursion: the depth limit is the point
        value, depth = stack.pop()
        if depth > MAX_CONFIG_DEPTH:
            raise SavingError(f"{where} is nested more than {MAX_CONFIG_DEPTH} levels deep; a Keras config never "
                              "is. The file is corrupt or hostile.")
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    if not model and not isinstance(entry, dict):
        raise SavingError(f"{where} should hold a JSON object; got {type(entry).__name__}. The file is corrupt.")
    if model and (not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str) or not isinstance(
            entry.get("config", {}), (dict, type(None)))):
        shown = type(entry).__name__ if not isinstance(entry, dict) else f"an object with keys {sorted(entry)[:6]}"
        raise SavingError(f"{where} should hold a Keras model config, a JSON object with 'class_name' and "
                          f"'config'; got {shown}. The file is corrupt or not a Keras model.")
    return entry


def compile_saved(model, cc, source):
    """compile() `model` as its file says; a malformed compile config is a SavingError naming `source`."""
    if not isinstance(cc, dict):
        raise SavingError(f"{source}: the saved compile config should be a JSON object; got {type(cc).__name__}. "
                          "Load with compile=False and compile the model yourself.")
    try:
        _compile_from_config(model, cc)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise SavingError(f"{source}: the saved compile config cannot be used ({type(exc).__name__}: {exc}). Load "
                          "with compile=False and compile the model yourself.") from exc


def _compile_from_config(model, cc):
    optimizer = optimizers_module.get(cc.get("optimizer") or "rmsprop")
    loss = cc.get("loss")
    if isinstance(loss, dict):
        loss = losses_module.get(loss)
    metrics, weighted = (_saved_metrics(cc.get(key)) for key in ("metrics", "weighted_metrics"))
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, weighted_metrics=weighted,
                  loss_weights=cc.get("loss_weights"))


def _saved_metrics(metrics):
    """A saved metrics list: strings and built-in metric configs (functions were not stored)."""
    if isinstance(metrics, list):
        return [metrics_module.get(m) if isinstance(m, dict) else m for m in metrics if m is not None]
    return metrics
