"""`Model`: a Layer that can be compiled, trained, evaluated, saved and summarised.

Three ways to build one, as in Keras:
- `Sequential([...])` (see `sequential.py`),
- `Model(inputs, outputs)` on symbolic `Input`s (see `functional.py`),
- subclassing: layers assigned as attributes in `__init__` are tracked, and
  `call(self, x, training=None)` says how they connect.

The loops themselves live in `trainer.py`; this class holds the compiled state and the Keras API.
"""
import json

from course.keras import losses as losses_module
from course.keras import metrics as metrics_module
from course.keras import optimizers as optimizers_module
from course.keras.layers.base import Layer

__all__ = ["Model"]


class Model(Layer):
    """Keras' `Model`: `compile`, `fit`, `evaluate`, `predict`, `summary`, `save`, weights I/O."""

    _summary_shows_inputs = False        # summary() rows for InputLayers: only a functional model shows them

    def __new__(cls, *args, **kwargs):
        if cls is Model and (len(args) >= 2 or "inputs" in kwargs or "outputs" in kwargs):
            from course.keras.functional import Functional       # local: functional subclasses Model
            return Layer.__new__(Functional)
        return Layer.__new__(cls)

    def __init__(self, *args, trainable=True, name=None, dtype=None, **kwargs):
        if args:
            raise TypeError(f"{type(self).__name__}() takes keyword arguments only (name=..., trainable=...); "
                            f"for a functional model write Model(inputs, outputs).")
        for key in ("inputs", "outputs"):
            kwargs.pop(key, None)
        super().__init__(trainable=trainable, name=name, dtype=dtype, **kwargs)
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._compiled_loss = None
        self._metric_specs = []
        self._compiled_metrics = None          # resolved on the first batch (Keras resolves 'accuracy' by shapes)
        self._weighted_specs = []
        self._weighted_metrics = ()             # the compiled metrics that take sample weights
        self._metric_own_names = None           # "loss" and each compiled metric's name before renaming
        self._loss_weight = None
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._compile_config = None

    # -- structure -------------------------------------------------------------------------------
    @property
    def layers(self):
        """The model's layers, in order (Keras' `model.layers`)."""
        return self._sublayers()

    def get_layer(self, name=None, index=None):
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name!r}. Layers: {[l.name for l in self.layers]}.")

    def call(self, inputs, training=None):
        raise NotImplementedError(f"{type(self).__name__} must define call(self, inputs, training=None) "
                                  "(subclassed Model), or be built as Sequential([...]) / Model(inputs, outputs).")

    def _forward(self, x, training):
        """The forward pass on plain tensors, inside an active call context (used by the loops)."""
        return self._run(x, training=training)

    def build(self, input_shape):
        """Create every weight by running the model once on a zero batch of `input_shape`."""
        if input_shape is None:
            return
        from course.keras.layers.symbolic import dry_run_shape
        if not self.built:
            self.built = True          # so that the dry run does not come back here
            try:
                self._output_shape = dry_run_shape(_Unbuilt(self), tuple(input_shape))
            except Exception:
                self.built = False
                raise
            self._build_input_shape = (None,) + tuple(input_shape)[1:]

    # -- compile -------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile="auto", auto_scale_loss=True):
        """Choose the optimizer, the loss and the metrics (strings or objects), as Keras does.

        `metrics` ignore sample and class weights; `weighted_metrics` use them (Keras 3). A weighted
        metric whose name an unweighted one already has is logged as 'weighted_<name>'.
        `loss_weights` (one output): a number, or a one-entry list or dict, that multiplies the loss."""
        if isinstance(loss, (dict, list, tuple)) or isinstance(metrics, dict) or isinstance(weighted_metrics, dict):
            raise NotImplementedError("compile: models with several outputs (a loss per output) are not supported; "
                                      "give one loss.")
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = loss
        self._compiled_loss = losses_module.get(loss)
        self._loss_weight = _single_loss_weight(loss_weights)
        self._metric_specs = _metric_list(metrics)
        self._weighted_specs = _metric_list(weighted_metrics)
        for m in self._metric_specs + self._weighted_specs:
            if isinstance(m, str) and m.lower() not in ("accuracy", "acc"):
                metrics_module.get(m)                      # fail now on an unknown string
        self._compiled_metrics = None
        self._weighted_metrics = ()
        self._metric_own_names = None
        self.compiled = True
        self._compile_config = {"optimizer": optimizers_module.serialize(self.optimizer),
                                "loss": losses_module.serialize(self._compiled_loss), "loss_weights": loss_weights,
                                "metrics": [metrics_module.serialize(m) for m in self._metric_specs] or None,
                                "weighted_metrics": [metrics_module.serialize(m) for m in self._weighted_specs]
                                or None, "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}

    def _assert_compiled(self, what):
        if not self.compiled or self._compiled_loss is None:
            missing = "compile()" if not self.compiled else "compile(loss=...)"
            raise RuntimeError(f"You must call {missing} before {what}(), e.g. model.compile(optimizer='adam', "
                               "loss='sparse_categorical_crossentropy', metrics=['accuracy']).")

    def _resolve_metrics(self, y, out):
        """The compiled metrics, made on the first batch: `metrics` then `weighted_metrics`, named as Keras
        3 logs them (a repeated name gets _1, _2, ...; a weighted metric sharing an unweighted one's name
        becomes weighted_<name>). `self._weighted_metrics` holds the ones that take sample weights."""
        if self._compiled_metrics is None:
            plain = [metrics_module.resolve(m, y, out) for m in self._metric_specs]
            weighted = [metrics_module.resolve(m, y, out) for m in self._weighted_specs]
            self._metric_own_names = ["loss"] + [m.name for m in plain + weighted]
            seen = {}

            def unique(name):                   # the first keeps its name, then name_1, name_2, ...
                seen[name] = seen.get(name, 0) + 1
                return name if seen[name] == 1 else f"{name}_{seen[name] - 1}"
            for m in plain:
                m.name = unique(m.name)
            for m in weighted:
                m.name = unique(f"weighted_{m.name}" if m.name in seen else m.name)
            self._weighted_metrics = tuple(weighted)
            self._compiled_metrics = plain + weighted
        return self._compiled_metrics

    @property
    def metrics(self):
        """The loss tracker then the compiled metrics (after the first batch), as Keras lists them."""
        return [self._loss_tracker] + list(self._compiled_metrics or [])

    def _flatten_metrics_in_order(self, logs):
        """`evaluate`'s list (Keras 3's rule): the value of each compiled metric by its own name, in
        compile order, then whatever logs are left, sorted by name; one value alone is returned bare.
        (So a weighted metric renamed weighted_<name> repeats the unweighted value first, as in Keras.)"""
        names = getattr(self, "_metric_own_names", None) or [m.name for m in self.metrics]
        results = [logs[name] for name in names if name in logs]
        results += [logs[key] for key in sorted(logs) if key not in names]
        return results[0] if len(results) == 1 else results

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    # -- the loops (trainer.py) ------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
        """Train for `epochs` epochs; returns a History (`history.history['loss']`, ...)."""
        from course.keras import trainer
        return trainer.fit(self, x, y, batch_size=batch_size, epochs=epochs, verbose=verbose, callbacks=callbacks,
                           validation_split=validation_split, validation_data=validation_data, shuffle=shuffle,
                           class_weight=class_weight, sample_weight=sample_weight, initial_epoch=initial_epoch,
                           steps_per_epoch=steps_per_epoch, validation_steps=validation_steps,
                           validation_batch_size=validation_batch_size, validation_freq=validation_freq)

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False, **kwargs):
        """Loss and metrics on (x, y): a scalar when there are no metrics, else [loss, *metrics]."""
        from course.keras import trainer
        return trainer.evaluate(self, x, y, batch_size=batch_size, verbose=verbose, sample_weight=sample_weight,
                                steps=steps, callbacks=callbacks, return_dict=return_dict)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for x in inference mode, as one numpy array."""
        from course.keras import trainer
        return trainer.predict(self, x, batch_size=batch_size, verbose=verbose, steps=steps, callbacks=callbacks)

    def predict_on_batch(self, x):
        from course.keras import trainer
        return trainer.predict(self, x, batch_size=None, verbose=0, one_batch=True)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One optimisation step on this batch; returns the loss (and metrics) of the batch."""
        from course.keras import trainer
        return trainer.train_on_batch(self, x, y, sample_weight=sample_weight, class_weight=class_weight,
                                      return_dict=return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        return self.evaluate(x, y, batch_size=len(x), verbose=0, sample_weight=sample_weight,
                             return_dict=return_dict)

    # -- inspection and persistence ------------------------------------------------------------
    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False,
                layer_range=None):
        """Print Keras 3's table: layer (type), output shape, parameter count, then the totals."""
        from course.keras.summary import print_summary
        print_summary(self, line_length=line_length, print_fn=print_fn, show_trainable=show_trainable)

    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Save as a Keras 3 `.keras` file (config.json, metadata.json, model.weights.h5 in a zip)."""
        from course.keras.saving import saving_api
        saving_api.save_model(self, filepath, overwrite=overwrite)

    def export(self, filepath, format="tf_saved_model", verbose=None, input_signature=None, **kwargs):
        """Keras 3's export for serving: a SavedModel with the `serve` endpoint (course.graph.saved_model)."""
        if format != "tf_saved_model":
            raise NotImplementedError(f"model.export(format={format!r}) is not supported; use format='tf_saved_model' "
                                      "(or course.export for a torch.export / ONNX program).")
        from course.graph.saved_model import export_keras_model
        return export_keras_model(self, filepath, input_signature=input_signature, verbose=verbose is not False)

    def save_weights(self, filepath, overwrite=True, max_shard_size=None):
        """Save the weights to a Keras 3 `.weights.h5` file."""
        from course.keras.saving import saving_api
        saving_api.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Load weights saved by `save_weights` (here or by Keras 3), or the weights of a `.keras` file."""
        from course.keras.saving import saving_api
        saving_api.load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        return config

    def to_json(self, **kwargs):
        from course.keras.saving.serialization import serialize_model
        return json.dumps(serialize_model(self), **kwargs)

    def get_compile_config(self):
        return self._compile_config

    def get_build_config(self):
        """What Keras stores to build the model again: the input shape it was built for (None: unbuilt)."""
        return None if self._build_input_shape is None else {"input_shape": list(self._build_input_shape)}

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _metric_list(metrics):
    if metrics is None:
        return []
    return list(metrics) if isinstance(metrics, (list, tuple)) else [metrics]


def _single_loss_weight(loss_weights):
    """compile(loss_weights=...) for a one-output model: None, or the float that multiplies the loss."""
    if loss_weights is None:
        return None
    value = loss_weights
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise ValueError(f"compile: this model has one output, so loss_weights takes one weight; got "
                             f"{len(value)}: {loss_weights!r}.")
        value = value[0]
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"compile: loss_weights must be a number (or a one-entry list or dict); got "
                         f"{loss_weights!r}.") from None


class _Unbuilt:
    """Adapter so that `dry_run_shape` can run a model whose `built` flag is already set."""

    def __init__(self, model):
        self.model = model

    def _run(self, x, training=False):
        return self.model._run(x, training=training)
