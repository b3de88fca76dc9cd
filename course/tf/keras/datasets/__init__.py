"""`tf.keras.datasets`: MNIST, from the files shipped with the course."""
from course.tf.keras.datasets import mnist
from course.tf._unsupported import module_getattr

__all__ = ["mnist"]

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "fashion_mnist": "Only mnist ships with the course (offline).",
    "cifar10": "Only mnist ships with the course (offline).",
})
