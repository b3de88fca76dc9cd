"""`tf.keras.datasets.mnist`."""
from course.keras.datasets import load_mnist as load_data

__all__ = ["load_data"]
