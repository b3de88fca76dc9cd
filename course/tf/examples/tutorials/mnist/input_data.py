"""`input_data.read_data_sets(dir, one_hot=True)` of TF1's MNIST tutorials, offline. Names only."""
from course.data.tf1_mnist import DataSet, Datasets, dense_to_one_hot, load_mnist, read_data_sets  # noqa: F401

__all__ = ["read_data_sets", "DataSet", "Datasets", "dense_to_one_hot", "load_mnist"]
