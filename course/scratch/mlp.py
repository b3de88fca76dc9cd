"""A two-layer network trained with hand-written backprop: no autograd anywhere.

    x (N, D) → dense(w1, b1) → ReLU → dense(w2, b2) → softmax cross-entropy

The forward pass keeps each layer's cache; the backward pass calls the matching backward
functions in reverse order; SGD with momentum updates the parameters.  Every step is a call
into :mod:`course.scratch`, so the whole loop runs on any device torch supports.
"""

from __future__ import annotations

import math
import sys
import time

import torch

import course.device
from course.data.batches import Batches
from course.scratch.activations import relu_backward, relu_forward
from course.scratch.dense import dense_backward, dense_forward
from course.scratch.losses import softmax_cross_entropy

__all__ = ["TwoLayerNet", "train_mlp"]


def _as_features(x: torch.Tensor) -> torch.Tensor:
    """(N, ...) images or features -> (N, D); uint8 pixels are scaled later, per batch."""
    x = torch.as_tensor(x)
    return x.reshape(x.shape[0], -1)


class TwoLayerNet:
    r"""dense → ReLU → dense, with parameters in a dict (CS231n's ``TwoLayerNet``, Keras layouts).

    Kernels are (in, out) and initialised Glorot-uniform, biases zero, as Keras ``Dense`` does:
    w ~ U(−a, a), a = √(6 / (fan_in + fan_out)).
    """

    def __init__(self, input_dim: int = 784, hidden: int = 256, num_classes: int = 10, *,
                 device=None, dtype: torch.dtype = torch.float32, seed: int = 0):
        self.device = course.device.get(device)
        self.dtype = dtype
        gen = torch.Generator().manual_seed(seed)  # CPU generator: same weights on every device

        def glorot(fan_in, fan_out):
            a = math.sqrt(6.0 / (fan_in + fan_out))
            w = (torch.rand(fan_in, fan_out, generator=gen, dtype=torch.float64) * 2 - 1) * a  # (in, out)
            return w.to(self.device, dtype)

        self.params = {
            "w1": glorot(input_dim, hidden),  # (D, H)
            "b1": torch.zeros(hidden, device=self.device, dtype=dtype),  # (H,)
            "w2": glorot(hidden, num_classes),  # (H, C)
            "b2": torch.zeros(num_classes, device=self.device, dtype=dtype),  # (C,)
        }
        self.history: dict[str, list[float]] = {}

    def scores(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (N, C) for features x (N, D), no caches kept."""
        p = self.params
        h = torch.clamp(x @ p["w1"] + p["b1"], min=0)  # (N, H)
        return h @ p["w2"] + p["b2"]  # (N, C)

    def loss(self, x: torch.Tensor, y: torch.Tensor, *, l2: float = 0.0):
        r"""Loss and gradients of every parameter, by hand.

            L = CE(softmax(relu(x·w1 + b1)·w2 + b2), y) + (l2/2)·(‖w1‖² + ‖w2‖²)

        Returns ``(loss, grads)`` with ``grads`` keyed like ``params``.
        """
        loss, grads, _ = self._loss_grads_logits(x, y, l2)
        return loss, grads

    def _loss_grads_logits(self, x, y, l2):
        p = self.params
        a1, c1 = dense_forward(x, p["w1"], p["b1"])  # (N, H)
        h1, cr = relu_forward(a1)  # (N, H)
        logits, c2 = dense_forward(h1, p["w2"], p["b2"])  # (N, C)
        loss, dlogits = softmax_cross_entropy(logits, y)  # (), (N, C)

        dh1, dw2, db2 = dense_backward(dlogits, c2)  # (N, H), (H, C), (C,)
        da1 = relu_backward(dh1, cr)  # (N, H)
        _, dw1, db1 = dense_backward(da1, c1)  # (D, H), (H,)
        grads = {"w1": dw1, "b1": db1, "w2": dw2, "b2": db2}
        if l2:
            loss = loss + 0.5 * l2 * ((p["w1"] ** 2).sum() + (p["w2"] ** 2).sum())
            grads["w1"] = grads["w1"] + l2 * p["w1"]  # ∂/∂w (l2/2)‖w‖² = l2·w
            grads["w2"] = grads["w2"] + l2 * p["w2"]
        return loss, grads, logits

    def predict(self, x, *, batch_size: int = 2048) -> torch.Tensor:
        """Class indices (N,) for images or features (uint8 pixels are scaled to [0, 1])."""
        preds = [self.scores(xb).argmax(dim=1) for xb in self._batches(x, batch_size)]
        return torch.cat(preds) if preds else torch.empty(0, dtype=torch.long, device=self.device)

    def evaluate(self, x, y, *, batch_size: int = 2048) -> tuple[float, float]:
        """(mean cross-entropy, accuracy) over a data set, as Keras' ``evaluate`` reports them."""
        total_loss, correct, n = 0.0, 0, 0
        for xb, yb in Batches(_as_features(x), torch.as_tensor(y), batch_size, shuffle=False,
                              device=self.device, dtype=self.dtype):
            logits = self.scores(xb)  # (B, C)
            loss, _ = softmax_cross_entropy(logits, yb)
            total_loss += float(loss) * len(xb)
            correct += int((logits.argmax(dim=1) == yb).sum())
            n += len(xb)
        return total_loss / n, correct / n

    def _batches(self, x, batch_size):
        return Batches(_as_features(x), None, batch_size, shuffle=False, device=self.device, dtype=self.dtype)


def train_mlp(x_train, y_train, *, hidden: int = 256, epochs: int = 10, lr: float = 0.1, momentum: float = 0.9,
              batch_size: int = 128, l2: float = 0.0, validation_data=None, max_steps: int | None = None,
              device=None, seed: int = 0, verbose: bool = False, on_epoch_end=None) -> TwoLayerNet:
    r"""Train a :class:`TwoLayerNet` with mini-batch SGD and momentum, all gradients by hand.

    Update (TensorFlow's ``MomentumOptimizer`` form; ``momentum=0`` is plain SGD):

        v ← μ·v + g,      θ ← θ − η·v          (η = lr, μ = momentum, g = ∂L/∂θ)

    x_train: (N, ...) images (uint8 pixels are scaled to [0, 1]) or features; y_train: integer
    labels (N,).  ``max_steps`` stops early (for quick demonstrations).  ``on_epoch_end(epoch,
    logs)`` is called after every epoch with the logs dict.  Returns the network; its
    ``history`` holds per-epoch ``loss``/``accuracy`` (training, averaged over the epoch's
    batches), ``val_loss``/``val_accuracy`` when ``validation_data=(x, y)`` is given, and
    ``seconds``.
    """
    x_train = _as_features(x_train)  # (N, D)
    y_train = torch.as_tensor(y_train)
    if y_train.dim() != 1 or y_train.is_floating_point():
        raise ValueError(f"train_mlp expects integer labels of shape (N,); got {y_train.dtype} {tuple(y_train.shape)}.")
    num_classes = max(int(y_train.max()) + 1, 2)
    if validation_data is not None:
        num_classes = max(num_classes, int(torch.as_tensor(validation_data[1]).max()) + 1)
    net = TwoLayerNet(x_train.shape[1], hidden, num_classes, device=device, seed=seed)
    if verbose:
        course.device.announce(sys.stdout)
    data = Batches(x_train, y_train, batch_size, shuffle=True, seed=seed, device=net.device, dtype=net.dtype)
    velocity = {k: torch.zeros_like(v) for k, v in net.params.items()}
    history: dict[str, list[float]] = {"loss": [], "accuracy": [], "seconds": []}
    if validation_data is not None:
        history.update(val_loss=[], val_accuracy=[])
    net.history = history
    step, start = 0, time.perf_counter()

    for epoch in range(epochs):
        loss_sum = torch.zeros((), device=net.device)  # summed on the device: no sync per step
        correct = torch.zeros((), device=net.device, dtype=torch.long)
        seen = 0
        for xb, yb in data:
            loss, grads, logits = net._loss_grads_logits(xb, yb, l2)
            for k, g in grads.items():
                v = velocity[k]
                v.mul_(momentum).add_(g)  # v ← μ·v + g
                net.params[k].sub_(lr * v)  # θ ← θ − η·v
            loss_sum += loss * len(xb)
            correct += (logits.argmax(dim=1) == yb).sum()
            seen += len(xb)
            step += 1
            if max_steps is not None and step >= max_steps:
                break
        logs = {"loss": float(loss_sum) / max(seen, 1), "accuracy": int(correct) / max(seen, 1)}
        if validation_data is not None:
            logs["val_loss"], logs["val_accuracy"] = net.evaluate(*validation_data)
        logs["seconds"] = time.perf_counter() - start
        for k, v in logs.items():
            history[k].append(v)
        if verbose:
            print(f"epoch {epoch + 1}/{epochs}: " + ", ".join(f"{k}={v:.4f}" for k, v in logs.items()))
        if on_epoch_end is not None:
            on_epoch_end(epoch, logs)
        if max_steps is not None and step >= max_steps:
            break
    return net
