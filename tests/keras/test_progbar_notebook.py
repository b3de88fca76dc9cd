"""verbose=1 in Jupyter: the bar is one text output redrawn in place, run here in a real kernel.

A saved notebook must keep the finished bar as Keras prints it ("Epoch 1/2" and
"4/4 ━━━━━━━━━━━━━━━━━━━━ 0s 3ms/step - accuracy: 0.2500 - loss: 2.3..."), not a widget that shows
"0/4" once its state is gone.
"""
import re

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

FIT = """
import numpy as np
from course import tf
from course.tf.keras import layers
tf.random.set_seed(0)
model = tf.keras.Sequential([layers.Dense(3, activation="softmax")])
model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
x, y = np.random.default_rng(0).normal(size=(16, 5)).astype("float32"), np.arange(16) % 3
model.fit(x, y, epochs=2, batch_size=4, verbose=1)
model.evaluate(x, y, batch_size=8, verbose=1)
"""

BAR = re.compile(r"^(\d+)/(\d+) (━{20}) \d+m?s \d+[mu]?s/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}$")


def test_fit_bar_is_saved_as_finished_text():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(FIT)])
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    assert not any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    bars = [o["data"]["text/plain"] for o in outputs if o.output_type == "display_data"]
    assert len(bars) == 3, outputs                                    # two epochs, then evaluate
    for epoch, text in enumerate(bars[:2], 1):
        header, line = text.split("\n")
        assert header == f"Epoch {epoch}/2"
        assert BAR.match(line) and BAR.match(line).group(1, 2) == ("4", "4"), line
    assert BAR.match(bars[2]) and BAR.match(bars[2]).group(1, 2) == ("2", "2"), bars[2]
    streams = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "Epoch" not in streams and "━" not in streams              # nothing printed twice
