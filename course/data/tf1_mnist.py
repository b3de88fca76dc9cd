"""TF1's MNIST tutorial reader (`tensorflow.examples.tutorials.mnist.input_data`), offline.

    mnist = read_data_sets("MNIST_data", one_hot=True)
    batch_xs, batch_ys = mnist.train.next_batch(100)

As the original: the 60,000 training images are split into `train` (the last 55,000) and
`validation` (the first 5,000); `test` has 10,000. Images are float32 in [0, 1], flattened to 784
values (`reshape=True`); labels are uint8 class ids, or float64 one-hot rows with `one_hot=True`.
`next_batch` shuffles the whole set (numpy's global generator) before the first epoch and at each
epoch's end, and a batch that crosses the end joins the epoch's rest with the next epoch's start.
The files come from `train_dir` when it holds them, otherwise from the kit's own copy
(`course.data`): nothing is ever downloaded.

TF1's DataSet seeds numpy with `random_seed.get_seed(seed)`, which reads the default graph's seed
(`tf.set_random_seed`). That rule belongs to the graph engine, a layer above this module, so the
engine hands it over when it loads (`set_seed_rule`, called by `course.graph.random_ops`); without
it there is no graph seed and `seed` alone decides, as in TF1 when no graph seed is set.
"""
import collections

import numpy as np

from course.data.mnist import MNISTDataError, find_mnist, load_mnist_numpy

__all__ = ["DataSet", "Datasets", "read_data_sets", "dense_to_one_hot", "load_mnist", "set_seed_rule"]

Datasets = collections.namedtuple("Datasets", ["train", "validation", "test"])
_seed_rule = [lambda seed: (None, seed)]        # no graph seed: only the op seed counts


def set_seed_rule(get_seed):
    """Take DataSet's numpy seed from `get_seed(seed) -> (seed1, seed2)`, TF1's `get_seed`."""
    _seed_rule[0] = get_seed


def dense_to_one_hot(labels_dense, num_classes):
    """(N,) class ids -> (N, num_classes) float64 one-hot rows."""
    num_labels = labels_dense.shape[0]
    one_hot = np.zeros((num_labels, num_classes))
    one_hot.flat[np.arange(num_labels) * num_classes + labels_dense.ravel()] = 1
    return one_hot


class DataSet:
    """Images and labels with TF1's `next_batch(batch_size, fake_data=False, shuffle=True)`."""

    def __init__(self, images, labels, fake_data=False, one_hot=False, dtype=np.float32, reshape=True, seed=None):
        seed1, seed2 = _seed_rule[0](seed)
        np.random.seed(seed1 if seed is None else seed2)   # what TF1's DataSet does with numpy's generator
        dtype = np.dtype(getattr(dtype, "name", dtype) if not isinstance(dtype, np.dtype) else dtype)
        if dtype not in (np.uint8, np.float32):
            raise TypeError(f"Invalid image dtype {dtype!r}, expected uint8 or float32")
        if fake_data:
            self._num_examples, self.one_hot = 10000, one_hot
        else:
            if images.shape[0] != labels.shape[0]:
                raise ValueError(f"images.shape: {images.shape} labels.shape: {labels.shape}")
            self._num_examples = images.shape[0]
            if reshape:
                images = images.reshape(images.shape[0], images.shape[1] * images.shape[2])
            if dtype == np.float32:
                images = images.astype(np.float32) * (1.0 / 255.0)     # [0, 255] -> [0.0, 1.0]
        self._images, self._labels = images, labels
        self._epochs_completed = 0
        self._index_in_epoch = 0

    @property
    def images(self):
        return self._images

    @property
    def labels(self):
        return self._labels

    @property
    def num_examples(self):
        return self._num_examples

    @property
    def epochs_completed(self):
        return self._epochs_completed

    def next_batch(self, batch_size, fake_data=False, shuffle=True):
        """The next `batch_size` examples of this epoch, as (images, labels)."""
        if fake_data:
            fake_image = [1] * 784
            fake_label = [1] + [0] * 9 if self.one_hot else 0
            return [fake_image for _ in range(batch_size)], [fake_label for _ in range(batch_size)]
        start = self._index_in_epoch
        if self._epochs_completed == 0 and start == 0 and shuffle:        # shuffle for the first epoch
            perm0 = np.arange(self._num_examples)
            np.random.shuffle(perm0)
            self._images, self._labels = self.images[perm0], self.labels[perm0]
        if start + batch_size > self._num_examples:                        # the epoch ends inside this batch
            self._epochs_completed += 1
            rest = self._num_examples - start
            images_rest, labels_rest = self._images[start:self._num_examples], self._labels[start:self._num_examples]
            if shuffle:
                perm = np.arange(self._num_examples)
                np.random.shuffle(perm)
                self._images, self._labels = self.images[perm], self.labels[perm]
            start = 0
            self._index_in_epoch = batch_size - rest
            end = self._index_in_epoch
            return (np.concatenate((images_rest, self._images[start:end]), axis=0),
                    np.concatenate((labels_rest, self._labels[start:end]), axis=0))
        self._index_in_epoch += batch_size
        end = self._index_in_epoch
        return self._images[start:end], self._labels[start:end]


def _folder(train_dir):
    """`train_dir` when it holds the four files (they are then verified); otherwise None, the kit's
    copy, which stands in for what TF1 would download into `train_dir`."""
    if not train_dir:
        return None
    try:
        find_mnist(train_dir, verify=False)
    except MNISTDataError:
        return None
    return train_dir


def read_data_sets(train_dir, fake_data=False, one_hot=False, dtype=np.float32, reshape=True, validation_size=5000,
                   seed=None, source_url=None):
    """Datasets(train, validation, test) of MNIST from `train_dir` (or the kit's copy)."""
    if fake_data:
        def fake():
            return DataSet([], [], fake_data=True, one_hot=one_hot, dtype=dtype, seed=seed)
        return Datasets(train=fake(), validation=fake(), test=fake())
    (train_images, train_labels), (test_images, test_labels) = load_mnist_numpy(_folder(train_dir))
    train_images = train_images.reshape(-1, 28, 28, 1)                    # IDX images as TF1 read them
    test_images = test_images.reshape(-1, 28, 28, 1)
    if one_hot:
        train_labels, test_labels = dense_to_one_hot(train_labels, 10), dense_to_one_hot(test_labels, 10)
    if not 0 <= validation_size <= len(train_images):
        raise ValueError(f"Validation size should be between 0 and {len(train_images)}. Received: {validation_size}.")
    validation_images, validation_labels = train_images[:validation_size], train_labels[:validation_size]
    train_images, train_labels = train_images[validation_size:], train_labels[validation_size:]
    options = dict(dtype=dtype, reshape=reshape, seed=seed)
    return Datasets(train=DataSet(train_images, train_labels, **options),
                    validation=DataSet(validation_images, validation_labels, **options),
                    test=DataSet(test_images, test_labels, **options))


def load_mnist(train_dir="MNIST-data"):
    return read_data_sets(train_dir)
