"""The TF1 graph engine: build a graph of ops, then run parts of it in a Session.

    g = course.graph.Graph()
    with g.as_default():
        x = placeholder(torch.float32, (None, 2), name="x-input")
        ...
    with Session(graph=g) as sess:
        sess.run(train_step, feed_dict={x: xb})

Modules: `graph` (Graph, Operation, Tensor, the default graph and session), `registry` (op
types: shape function, kernel, gradient), the op families (`array_ops`, `shape_ops`, `math_ops`,
`reduce_ops`, `nn_ops`, `conv_ops`, `random_ops`, `variables`), their gradient functions
(`math_grad`, `array_grad`, `nn_grad`), `gradients` (symbolic backprop), `train` (optimizers on
course.optim), `session` + `plan` (pruning, feed checks, the compiled plan and the interpreter),
`saver`, and for TensorBoard `summary_ops`, `file_writer` and `graph_def`. The TensorFlow-shaped
names are in `course.tf.compat.v1`; TF1's MNIST tutorial reader is `course.data.tf1_mnist`.

TF2's graphs are here too: `function` (tf.function traces into a `concrete_function.FuncGraph`),
`dispatch` (TF2 ops and eager Variables build graph ops while a graph is built), `resource_ops`
(eager Variables read/assigned in a graph, tf.print), `assert_ops`, `gather_ops`, and `keras_forms`
(the graph form of Keras layers, losses, metrics and optimizer steps).
"""
from course.graph import array_ops, conv_ops, math_ops, nn_ops, reduce_ops, shape_ops  # noqa: F401 (op types)
from course.graph import dispatch, keras_forms  # noqa: F401  (eager values and Keras objects meeting a graph)
from course.graph.graph import (Graph, GraphKeys, Operation, Tensor, get_default_graph, get_default_session,
                                reset_default_graph)
from course.graph.gradients import gradients
from course.graph.session import ConfigProto, InteractiveSession, Session
from course.graph.variables import Variable, global_variables_initializer

__all__ = ["Graph", "GraphKeys", "Operation", "Tensor", "get_default_graph", "reset_default_graph", "gradients",
           "Session", "InteractiveSession", "ConfigProto", "get_default_session", "Variable",
           "global_variables_initializer"]
