"""`ProgbarLogger`: Keras' progress display, drawn with tqdm.

verbose=1  a bar per epoch, `1875/1875 ━━━━━━━━━━━━━━━━━━━━ 3s 1ms/step - accuracy: 0.9125 - loss: 0.3061`
           (a widget in Jupyter through tqdm.auto; plain lines when the output is not a terminal)
verbose=2  one such line per epoch, no bar
verbose=0  silent
The metrics shown are refreshed at most every `interval` seconds, because reading them waits for
the device; between refreshes a batch costs the bar one counter increment.
"""
import sys
import time

from course.keras.callback import Callback

__all__ = ["ProgbarLogger", "format_logs"]


def format_logs(logs):
    """'accuracy: 0.9125 - loss: 0.3061', keys sorted as Keras 3 prints them."""
    parts = []
    for k in sorted(logs):
        v = logs[k]
        if isinstance(v, float):
            parts.append(f"{k}: {v:.4f}" if abs(v) >= 1e-3 or v == 0 else f"{k}: {v:.4e}")
        else:
            parts.append(f"{k}: {v}")
    return " - ".join(parts)


def _in_notebook():
    return "ipykernel" in sys.modules and type(_ipython()).__name__ == "ZMQInteractiveShell"


def _ipython():
    try:
        from IPython import get_ipython
        return get_ipython()
    except Exception:
        return None


def _interactive():
    if _in_notebook():
        return True
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _time_text(seconds, steps):
    per = seconds / max(steps, 1)
    per_text = f"{per * 1e6:.0f}us/step" if per < 1e-3 else f"{per * 1e3:.0f}ms/step" if per < 1 else f"{per:.0f}s/step"
    total = f"{seconds:.0f}s" if seconds >= 1 or seconds == 0 else f"{seconds * 1e3:.0f}ms" if seconds >= 1e-3 else "0s"
    return total, per_text


class ProgbarLogger(Callback):
    """Prints progress and metrics during fit, evaluate and predict (Keras' default callback)."""

    interval = 0.25          # seconds between metric refreshes

    def __init__(self, count_mode="steps", stateful_metrics=None):
        super().__init__()
        self.verbose = 1
        self._bar = None
        self._start = 0.0
        self._last = 0.0
        self._seen = 0
        self._mode = "train"

    def set_params(self, params):
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else int(verbose)
        self.epochs = params.get("epochs", 1)
        self.steps = params.get("steps")

    # -- bar management ----------------------------------------------------------------------------
    def _open(self, total):
        self._start = self._last = time.perf_counter()
        self._seen = 0
        if self.verbose != 1 or not _interactive():
            self._bar = None
            return
        from tqdm.auto import tqdm
        self._bar = tqdm(total=total, file=sys.stdout, ascii=" ━", leave=True, dynamic_ncols=False,
                         bar_format="{n_fmt}/{total_fmt} {bar:20} {desc}", mininterval=0.1, miniters=1)

    def _tick(self, logs, final=False):
        self._seen += 1
        bar = self._bar
        if bar is None:
            return
        now = time.perf_counter()
        if final or now - self._last >= self.interval:
            self._last = now
            bar.set_description_str(self._text(logs, now), refresh=False)
        bar.update(1)

    def _text(self, logs, now):
        total, per = _time_text(now - self._start, self._seen)
        shown = dict(logs) if logs else {}
        tail = f" - {format_logs(shown)}" if shown else ""
        return f"{total} {per}{tail}"

    def _close(self, logs, steps):
        now = time.perf_counter()
        if self._bar is not None:
            if steps is not None and self._bar.total is None:
                self._bar.total = steps
            self._bar.set_description_str(self._text(logs, now), refresh=False)
            self._bar.refresh()
            self._bar.close()
            self._bar = None
        elif self.verbose in (1, 2):
            total, per = _time_text(now - self._start, self._seen)
            shown = format_logs(dict(logs or {}))
            n = steps if steps is not None else self._seen
            if self.verbose == 1:
                print(f"{n}/{n} {'━' * 20} {total} {per}" + (f" - {shown}" if shown else ""), flush=True)
            else:
                print(f"{n}/{n} - {total} - {per}" + (f" - {shown}" if shown else ""), flush=True)

    # -- training ----------------------------------------------------------------------------------
    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose:
            print(f"Epoch {epoch + 1}/{self.epochs}", flush=True)
            self._open(self.steps)

    def on_train_batch_end(self, batch, logs=None):
        if self.verbose:
            self._tick(logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.verbose:
            self._close(logs, self.steps if self.steps is not None else self._seen)

    # -- evaluate and predict (when called outside fit) ----------------------------------------------
    def on_test_begin(self, logs=None):
        if self.verbose and not self.params.get("in_fit"):
            self._open(self.params.get("steps"))

    def on_test_batch_end(self, batch, logs=None):
        if self.verbose and not self.params.get("in_fit"):
            self._tick(logs)

    def on_test_end(self, logs=None):
        if self.verbose and not self.params.get("in_fit"):
            self._close(logs, self.params.get("steps"))

    def on_predict_begin(self, logs=None):
        if self.verbose:
            self._open(self.params.get("steps"))

    def on_predict_batch_end(self, batch, logs=None):
        if self.verbose:
            self._tick(None)

    def on_predict_end(self, logs=None):
        if self.verbose:
            self._close(None, self.params.get("steps"))
