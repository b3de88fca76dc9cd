"""Functional models: `Model(inputs, outputs)` over the layer calls recorded on KerasTensors.

    inputs = Input(shape=(784,))
    h = Dense(128, activation="relu")(inputs)
    model = Model(inputs, Dense(10)(h))

The graph is a list of nodes (layer, input tensors, output tensor) in the order the calls were
made, which is a topological order; `call` replays it on real tensors.
"""
from course.keras.layers.functional import InputLayer
from course.keras.layers.symbolic import KerasTensor
from course.keras.model import Model
from course.keras.saving.serialization import deserialize_layer, register_model_class, serialize_layer

__all__ = ["Functional"]


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


class Functional(Model):
    _summary_shows_inputs = True

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable)
        self._inputs, self._outputs = _as_list(inputs), _as_list(outputs)
        self._single_input = not isinstance(inputs, (list, tuple))
        self._single_output = not isinstance(outputs, (list, tuple))
        for t in self._inputs + self._outputs:
            if not isinstance(t, KerasTensor):
                raise TypeError(f"Model(inputs, outputs) expects symbolic tensors from Input(...) and layer calls; "
                                f"got {t!r}.")
        self._nodes = self._trace()
        order, seen = [], set()
        for t in self._inputs:
            if id(t.layer) not in seen:
                seen.add(id(t.layer))
                order.append(t.layer)
        for layer, _, _ in self._nodes:
            if id(layer) not in seen:
                seen.add(id(layer))
                order.append(layer)
        self._layer_order = order
        for i, layer in enumerate(order):
            self.add_module(f"layer_{i}", layer)
        self.built = True
        self._build_input_shape = self._inputs[0].shape if self._single_input else [t.shape for t in self._inputs]
        self._output_shape = self._outputs[0].shape if self._single_output else [t.shape for t in self._outputs]

    def _trace(self):
        """The nodes between inputs and outputs, in call order."""
        inputs = {id(t) for t in self._inputs}
        nodes, seen = [], set()

        def visit(t):
            if id(t) in seen or id(t) in inputs:
                return
            seen.add(id(t))
            if isinstance(t.layer, InputLayer) or not t.parents:
                raise ValueError(f"Model(inputs, outputs): output depends on {t.name!r}, which is not among the "
                                 "inputs given. Pass every Input the outputs need.")
            for p in t.parents:
                visit(p)
            nodes.append((t.layer, t.parents, t))
        for out in self._outputs:
            visit(out)
        return nodes

    def _sublayers(self):
        return list(self._layer_order)

    @property
    def layers(self):
        return list(self._layer_order)

    @property
    def inputs(self):
        return list(self._inputs)

    @property
    def outputs(self):
        return list(self._outputs)

    def call(self, inputs, training=None, mask=None):
        xs = _as_list(inputs) if not self._single_input else [inputs]
        if len(xs) != len(self._inputs):
            raise ValueError(f"Model {self.name!r} expects {len(self._inputs)} input(s); got {len(xs)}.")
        values = {id(t): x for t, x in zip(self._inputs, xs)}
        for t, x in zip(self._inputs, xs):
            want = t.shape[1:]
            if x.dim() != len(t.shape) or any(w is not None and w != s for w, s in zip(want, x.shape[1:])):
                raise ValueError(f"Model {self.name!r} expects input of shape {('batch',) + tuple(want)}; got "
                                 f"{tuple(x.shape)}.")
        for layer, parents, out in self._nodes:
            args = [values[id(p)] for p in parents]
            values[id(out)] = layer._run(args[0] if len(args) == 1 else args, training=training)
        outs = [values[id(t)] for t in self._outputs]
        return outs[0] if self._single_output else outs

    def get_build_config(self):
        return {"input_shape": None}            # Keras rebuilds a functional model from its config alone

    def get_config(self):
        node_index = {}
        layers = []
        for layer in self._layer_order:
            entry = serialize_layer(layer)
            entry["name"] = layer.name
            entry["inbound_nodes"] = []
            layers.append(entry)
        by_name = {l.name: e for l, e in zip(self._layer_order, layers)}
        for layer, parents, out in self._nodes:
            args = [{"class_name": "__keras_tensor__",
                     "config": {"shape": list(p.shape), "dtype": "float32",
                                "keras_history": [p.layer.name, node_index.get(id(p), 0), 0]}} for p in parents]
            node_index[id(out)] = len(by_name[layer.name]["inbound_nodes"])
            by_name[layer.name]["inbound_nodes"].append(
                {"args": args if len(args) == 1 else [args], "kwargs": {}})

        def refs(tensors, single):
            rows = [[t.layer.name, node_index.get(id(t), 0), 0] for t in tensors]
            return rows[0] if single else rows
        return {"name": self.name, "trainable": self.trainable, "layers": layers,
                "input_layers": refs(self._inputs, self._single_input),
                "output_layers": refs(self._outputs, self._single_output)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        created, outputs_of = {}, {}          # name -> layer; (name, node) -> KerasTensor
        for entry in config["layers"]:
            layer = deserialize_layer(entry, custom_objects)
            created[entry["name"]] = (layer, entry)
            if isinstance(layer, InputLayer):
                outputs_of[(entry["name"], 0)] = layer.output
        pending = [(name, i, node) for name, (_, e) in created.items() for i, node in enumerate(e["inbound_nodes"])]
        while pending:
            progress = []
            for name, i, node in pending:
                args = node["args"][0] if node["args"] and isinstance(node["args"][0], list) else node["args"]
                keys = [(a["config"]["keras_history"][0], a["config"]["keras_history"][1]) for a in args]
                if all(k in outputs_of for k in keys):
                    parents = [outputs_of[k] for k in keys]
                    outputs_of[(name, i)] = created[name][0](parents[0] if len(parents) == 1 else parents)
                    progress.append((name, i, node))
            if not progress:
                raise ValueError("Functional config: some layer inputs are never produced; the file is inconsistent.")
            pending = [p for p in pending if p not in progress]

        def pick(refs):
            if refs and isinstance(refs[0], str):
                return outputs_of[(refs[0], refs[1])]
            return [outputs_of[(r[0], r[1])] for r in refs]
        return cls(pick(config["input_layers"]), pick(config["output_layers"]), name=config.get("name"),
                   trainable=config.get("trainable", True))


register_model_class(Functional, "Functional", "keras.src.models.functional", "Functional", aliases=("Model",))
