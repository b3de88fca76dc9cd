"""MNIST and toy data that work offline. Torch tensors here; numpy in the Keras facade."""
from course.data.batches import Batches, batches
from course.data.dataset import MNIST
from course.data.mnist import FILES, MNISTDataError, MNISTFiles, cache_dir, find_mnist, load_mnist, load_mnist_numpy
from course.data.toy import regression, sum_below_one

__all__ = ["Batches", "batches", "MNIST", "FILES", "MNISTDataError", "MNISTFiles", "cache_dir", "find_mnist",
           "load_mnist", "load_mnist_numpy", "regression", "sum_below_one"]
