"""A Keras-style Sequential model as its idiomatic PyTorch twin: `nn.Linear`, `nn.Conv2d`, NCHW.

PyTorch's optimisation tools look for PyTorch's own layers (dynamic quantisation replaces every
`nn.Linear`), so a model trained through the TensorFlow facade is first rewritten with them. The
twin computes the same function with PyTorch's conventions:

    Keras (NHWC)                              PyTorch twin (NCHW)
    Dense kernel W (in, out), y = x W + b     Linear weight Wᵀ (out, in), y = x Wᵀ + b
    Conv2D kernel (kh, kw, c_in, c_out)       Conv2d weight (c_out, c_in, kh, kw)
    images (N, H, W, C)                       images (N, C, H, W): one permute after the Reshape
    Flatten of (H, W, C)                      Flatten of (C, H, W): the next Linear's columns are
                                              reordered so that it reads the same pixels

so no permute is left inside the network. `to_torch(model, example)` checks the twin against the
model on `example` and refuses to return one that differs by more than 1e-4.
"""
from __future__ import annotations

import torch
from torch import nn

from course.framework.convert import as_plain

__all__ = ["to_torch", "ToNCHW", "Reshape"]


class Reshape(nn.Module):
    """Keras' Reshape: (N, ...) -> (N, *target_shape)."""

    def __init__(self, target_shape):
        super().__init__()
        self.target_shape = tuple(int(d) for d in target_shape)

    def forward(self, x):
        return x.reshape(x.shape[0], *self.target_shape)

    def extra_repr(self):
        return f"target_shape={self.target_shape}"


class ToNCHW(nn.Module):
    """(N, H, W, C) -> (N, C, H, W), once, where images enter the convolutional part."""

    def forward(self, x):
        return x.permute(0, 3, 1, 2).contiguous()          # (N, C, H, W)


def _copy(weight):
    """A float32 copy of a Keras weight that shares nothing with it (the torch twin trains apart)."""
    return as_plain(weight, detach=True, dtype=torch.float32, clone=True)


_ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "softmax": lambda: nn.Softmax(dim=-1),
                "linear": None}


def _activation(layer):
    from course.keras import activations
    name = activations.serialize(layer.activation) if getattr(layer, "activation", None) is not None else "linear"
    name = name if isinstance(name, str) else getattr(layer.activation, "__name__", str(name))
    if name not in _ACTIVATIONS:
        raise NotImplementedError(f"to_torch: activation {name!r} of layer {layer.name!r} has no twin here; "
                                  f"supported: {sorted(_ACTIVATIONS)}.")
    make = _ACTIVATIONS[name]
    return [make()] if make else []


def _shape_of(layer):
    return tuple(layer.output_shape[1:])


def to_torch(model, example) -> nn.Sequential:
    """The NCHW PyTorch twin (eval mode, CPU) of a Keras-style Sequential `model` built from
    InputLayer, Reshape, Conv2D, MaxPooling2D, AveragePooling2D, Flatten, Dense, Dropout and
    Activation layers. `example`: a batch of inputs, used to learn the layers' shapes and to
    check the twin."""
    from course.export import inference_module, max_abs_diff
    from course.keras import layers as L

    x = torch.as_tensor(example).to(torch.float32)
    device = next(model.parameters()).device
    reference = inference_module(model)(x.to(device))                          # also sets every layer's output shape
    out, nchw, reorder = [], False, None
    for layer in model.layers:
        kind = type(layer).__name__
        if isinstance(layer, L.InputLayer):
            continue
        if isinstance(layer, L.Reshape):
            out.append(Reshape(layer.target_shape))
            if len(layer.target_shape) == 3:                        # images: (H, W, C) -> (C, H, W)
                out.append(ToNCHW())
                nchw = True
        elif isinstance(layer, L.Conv2D):
            if not nchw:
                raise NotImplementedError(f"to_torch: Conv2D {layer.name!r} receives images that did not come from a "
                                          f"Reshape to (H, W, C); add layers.Reshape((H, W, C)) first.")
            if layer.padding == "same" and tuple(layer.strides) != (1, 1):
                raise NotImplementedError(f"to_torch: Conv2D {layer.name!r} uses padding='same' with strides "
                                          f"{layer.strides}; only stride 1 has a padding='same' twin here.")
            kh, kw, cin, cout = layer.kernel.shape
            conv = nn.Conv2d(cin, cout, (kh, kw), stride=tuple(layer.strides), padding=layer.padding,
                             dilation=tuple(layer.dilation_rate), bias=layer.use_bias)
            conv.weight.data = _copy(layer.kernel).permute(3, 2, 0, 1).contiguous()    # (out, in, kh, kw)
            if layer.use_bias:
                conv.bias.data = _copy(layer.bias)
            out += [conv] + _activation(layer)
        elif isinstance(layer, (L.MaxPooling2D, L.AveragePooling2D)):
            if layer.padding != "valid":
                raise NotImplementedError(f"to_torch: {kind} {layer.name!r} uses padding={layer.padding!r}; "
                                          f"only 'valid' pooling has a twin here.")
            pool = nn.MaxPool2d if isinstance(layer, L.MaxPooling2D) else nn.AvgPool2d
            out.append(pool(tuple(layer.pool_size), tuple(layer.strides)))
        elif isinstance(layer, L.Flatten):
            out.append(nn.Flatten())
            if nchw:
                h, w, c = _shape_of(model.layers[model.layers.index(layer) - 1])
                # feature k of the NCHW flatten is pixel (c, h, w); Keras numbered it (h, w, c)
                reorder = torch.arange(h * w * c).reshape(h, w, c).permute(2, 0, 1).reshape(-1)   # (C·H·W,)
                nchw = False
        elif isinstance(layer, L.Dense):
            kernel = _copy(layer.kernel)                                                    # (in, out)
            if reorder is not None:
                kernel, reorder = kernel[reorder], None
            lin = nn.Linear(kernel.shape[0], kernel.shape[1], bias=layer.use_bias)
            lin.weight.data = kernel.t().contiguous()                                        # (out, in)
            if layer.use_bias:
                lin.bias.data = _copy(layer.bias)
            out += [lin] + _activation(layer)
        elif isinstance(layer, L.Dropout):
            out.append(nn.Dropout(layer.rate))
        elif isinstance(layer, L.Activation):
            out += _activation(layer)
        else:
            raise NotImplementedError(f"to_torch: layer {layer.name!r} ({kind}) has no twin here; supported: "
                                      f"Reshape, Conv2D, MaxPooling2D, AveragePooling2D, Flatten, Dense, Dropout, "
                                      f"Activation.")
    twin = nn.Sequential(*out).eval()
    with torch.no_grad():
        diff = max_abs_diff(twin(x.cpu()), reference)
    if diff > 1e-4:
        raise RuntimeError(f"to_torch: the twin differs from the model by {diff:.3g} on the example "
                           f"(expected <= 1e-4); please report this model's layers.")
    return twin
