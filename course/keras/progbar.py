"""`ProgbarLogger`: Keras' progress display, drawn with tqdm.

verbose=1  a bar per epoch, `1875/1875 ━━━━━━━━━━━━━━━━━━━━ 3s 1ms/step - accuracy: 0.9125 - loss: 0.3061`
           (in Jupyter one plain-text output redrawn in place, so a saved notebook keeps the finished
           bar; tqdm in a terminal; plain lines when the output is neither)
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


def _terminal():
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _time_text(seconds, steps):
    per = seconds / max(steps, 1)
    per_text = f"{per * 1e6:.0f}us/step" if per < 1e-3 else f"{per * 1e3:.0f}ms/step" if per < 1 else f"{per:.0f}s/step"
    total = f"{seconds:.0f}s" if seconds >= 1 or seconds == 0 else f"{seconds * 1e3:.0f}ms" if seconds >= 1e-3 else "0s"
    return total, per_text


class NotebookBar:
    """The bar in Jupyter: one text output updated in place through its display id.

    A tqdm widget would need the widgets extension to show at all, and a saved notebook keeps no
    widget state (it shows "0/94"); a redrawn text output is saved as its last state, as Keras'
    own bar is. The interface is the part of tqdm's that ProgbarLogger uses.
    """

    redraw = 0.2             # seconds between redraws: each one is a message to the browser

    def __init__(self, total, header=""):
        from IPython.display import display
        self.total, self.header, self.n, self._desc = total, header, 0, ""
        self._drawn = time.perf_counter()
        self._handle = display(self._bundle(), raw=True, display_id=True)

    def _bundle(self):
        total = "Unknown" if self.total is None else str(self.total)
        filled = 20 if self.total is None else min(20, 20 * self.n // max(self.total, 1))
        line = f"{self.n:>{len(total)}}/{total} {'━' * filled}{' ' * (20 - filled)} {self._desc}".rstrip()
        return {"text/plain": f"{self.header}\n{line}" if self.header else line}

    def set_description_str(self, desc, refresh=True):
        self._desc = desc
        if refresh:
            self.refresh()

    def update(self, n=1):
        self.n += n
        if time.perf_counter() - self._drawn >= self.redraw:
            self.refresh()

    def refresh(self):
        self._drawn = time.perf_counter()
        self._handle.update(self._bundle(), raw=True)

    def close(self):
        self.refresh()


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
    def _open(self, total, header=""):
        self._start = self._last = time.perf_counter()
        self._seen = 0
        if self.verbose == 1 and _in_notebook():
            self._bar = NotebookBar(total, header)          # the header inside, so it cannot drift from its bar
            return
        if header:
            print(header, flush=True)
        if self.verbose != 1 or not _terminal():
            self._bar = None
            return
        from tqdm import tqdm
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
            self._open(self.steps, header=f"Epoch {epoch + 1}/{self.epochs}")

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
