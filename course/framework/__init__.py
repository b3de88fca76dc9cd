"""TensorFlow's shared vocabulary, used by every engine above it: dtypes, static shapes, errors,
nested structures (`tf.nest`), value conversion and identifier resolution.

It imports nothing from the rest of the kit (only torch, numpy and its own modules), so the eager
engine, the graph engine and Keras can all build on it.
"""
