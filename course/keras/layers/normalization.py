"""BatchNormalization with Keras' defaults and moving-average update.

Training (over every axis but the channel axis, biased variance as Keras):
    μ_B = mean(x),  σ²_B = mean((x - μ_B)²)
    y = γ · (x - μ_B) / sqrt(σ²_B + ε) + β
    moving_mean     <- moving_mean · momentum + μ_B · (1 - momentum)
    moving_variance <- moving_variance · momentum + σ²_B · (1 - momentum)
Inference: the same y with the moving statistics. Defaults momentum=0.99, ε=1e-3 (torch: 0.1 and
1e-5, and torch's `momentum` is Keras' 1 - momentum; torch also keeps the unbiased variance).
"""
import torch

import course.layers as K
from course.keras import initializers as initializers_module
from course.keras import regularizers as regularizers_module
from course.keras.layers.base import Layer
from course.keras.layers.conversion import plain

__all__ = ["BatchNormalization"]


class BatchNormalization(Layer):
    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, synchronized=False, renorm=False,
                 renorm_clipping=None, renorm_momentum=0.99, **kwargs):
        super().__init__(**kwargs)
        if renorm or synchronized or beta_constraint is not None or gamma_constraint is not None:
            raise NotImplementedError("BatchNormalization: renorm, synchronized and constraints are not supported.")
        if axis not in (-1,) and not isinstance(axis, int):
            raise NotImplementedError("BatchNormalization: only a single channel axis is supported.")
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers_module.get(beta_initializer)
        self.gamma_initializer = initializers_module.get(gamma_initializer)
        self.moving_mean_initializer = initializers_module.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers_module.get(moving_variance_initializer)
        self.beta_regularizer = regularizers_module.get(beta_regularizer)
        self.gamma_regularizer = regularizers_module.get(gamma_regularizer)

    def build(self, input_shape):
        self._axis = self.axis % len(input_shape)
        dim = (input_shape[self._axis],)
        self.gamma = self.add_weight(dim, self.gamma_initializer, name="gamma",
                                     regularizer=self.gamma_regularizer) if self.scale else None
        self.beta = self.add_weight(dim, self.beta_initializer, name="beta",
                                    regularizer=self.beta_regularizer) if self.center else None
        self.moving_mean = self.add_weight(dim, self.moving_mean_initializer, name="moving_mean", trainable=False)
        self.moving_variance = self.add_weight(dim, self.moving_variance_initializer, name="moving_variance",
                                               trainable=False)

    def call(self, inputs, training=None):
        axis = self._axis
        moving_mean, moving_variance = plain(self.moving_mean), plain(self.moving_variance)
        if inputs.dim() <= axis or inputs.shape[axis] != moving_mean.shape[0]:
            raise ValueError(f"BatchNormalization {self.name!r} was built for {moving_mean.shape[0]} channels "
                             f"on axis {axis}; got input of shape {tuple(inputs.shape)}.")
        shape = [1] * inputs.dim()
        shape[axis] = -1
        if training and self._trainable:
            dims = [d for d in range(inputs.dim()) if d != axis]
            variance, mean = torch.var_mean(inputs, dim=dims, correction=0)        # (C,), (C,)
            with torch.no_grad():
                m = self.momentum
                moving_mean.mul_(m).add_(mean.detach(), alpha=1 - m)
                moving_variance.mul_(m).add_(variance.detach(), alpha=1 - m)
        else:
            mean, variance = moving_mean, moving_variance
        view = (lambda t: t if t is None or axis == inputs.dim() - 1 else t.reshape(shape))
        return K.batch_norm(inputs, view(mean), view(variance), view(plain(self.beta)), view(plain(self.gamma)),
                            self.epsilon)

    def get_config(self):
        ser = initializers_module.serialize
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "beta_initializer": ser(self.beta_initializer),
                "gamma_initializer": ser(self.gamma_initializer),
                "moving_mean_initializer": ser(self.moving_mean_initializer),
                "moving_variance_initializer": ser(self.moving_variance_initializer),
                "beta_regularizer": regularizers_module.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers_module.serialize(self.gamma_regularizer),
                "beta_constraint": None, "gamma_constraint": None, "synchronized": False,
                "renorm": False, "renorm_clipping": None, "renorm_momentum": 0.99}
