"""`keras.utils.image_dataset_from_directory` and `text_dataset_from_directory`, on local folders.

As Keras 3 does: one sub-folder per class (sorted names), files sorted within each; "Found N files
belonging to C classes."; with `shuffle` the file list is shuffled by numpy's RandomState(seed) (so
`validation_split` + `subset` with one seed give disjoint training and validation files, as in
Keras), then the dataset shuffles a buffer of 8 batches; images are decoded (PNG, JPEG, GIF, BMP)
and resized with tf.image.resize, kept as float32 in [0, 255]. The in-dataset shuffle draws with
torch, so shuffled batches come in another order than Keras'; `shuffle=False` gives Keras' order.
"""
import os

import numpy as np
import torch

from course.tape.data.dataset import AUTOTUNE, Dataset
from course.tape.image import resize
from course.tape.image_files import decode_image, read_file
from course.tape.string_tensor import StringTensor
from course.tape.tensor import wrap
from course.framework.convert import as_plain

__all__ = ["image_dataset_from_directory", "text_dataset_from_directory"]

_IMAGE_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


def _index(directory, labels, class_names, formats, shuffle, seed, follow_links):
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise ValueError(f"Expected a directory of class sub-folders; {directory!r} is not a directory.")
    if labels == "inferred":
        found = sorted(d for d in os.listdir(directory) if os.path.isdir(os.path.join(directory, d)))
        if class_names is not None and sorted(class_names) != sorted(found):
            raise ValueError(f"The `class_names` passed did not match the names of the subdirectories of the target "
                             f"directory. Expected: {found} (or a subset of it), but received: {class_names}")
        classes = list(class_names) if class_names is not None else found
        folders = [(os.path.join(directory, c), i) for i, c in enumerate(classes)]
    else:
        classes, folders = [], [(directory, None)]
    paths, ids = [], []
    for folder, label in folders:
        for root, _, names in sorted(os.walk(folder, followlinks=follow_links)):
            for name in sorted(names):
                if name.lower().endswith(formats):
                    paths.append(os.path.join(root, name))
                    ids.append(label)
    if labels not in ("inferred", None):
        if len(labels) != len(paths):
            raise ValueError(f"Expected the lengths of `labels` to match the number of files in the target "
                             f"directory. len(labels) is {len(labels)} while we found {len(paths)} files.")
        ids = list(labels)
    print(f"Found {len(paths)} files" + (f" belonging to {len(classes)} classes." if labels == "inferred" else "."))
    if shuffle:
        seed = int(seed) if seed is not None else int(np.random.randint(1e6))
        np.random.RandomState(seed).shuffle(paths)
        np.random.RandomState(seed).shuffle(ids)
    return paths, ids, classes, seed


def _split(paths, ids, validation_split, subset):
    if not validation_split:
        return paths, ids
    if subset not in ("training", "validation", "both"):
        raise ValueError(f"With validation_split, subset must be 'training', 'validation' or 'both'; got {subset!r}.")
    n = int(validation_split * len(paths))
    if subset == "training":
        print(f"Using {len(paths) - n} files for training.")
        return paths[:len(paths) - n], ids[:len(paths) - n]
    print(f"Using {n} files for validation.")
    return paths[len(paths) - n:], ids[len(paths) - n:]


def _labels(ids, label_mode, num_classes):
    arr = np.asarray(ids)
    if label_mode == "int":
        return arr.astype(np.int32)
    if label_mode == "binary":
        return arr.astype(np.float32).reshape(-1, 1)
    if label_mode == "categorical":
        return np.eye(num_classes, dtype=np.float32)[arr]
    raise ValueError(f"label_mode must be 'int', 'categorical', 'binary' or None; got {label_mode!r}.")


def _finish(ds, labels_arr, batch_size, shuffle, seed):
    if labels_arr is not None:
        ds = Dataset.zip((ds, Dataset.from_tensor_slices(labels_arr)))
    if shuffle:
        ds = ds.shuffle(buffer_size=(batch_size or 1) * 8, seed=seed)
    if batch_size is not None:
        ds = ds.batch(batch_size)
    return ds.prefetch(AUTOTUNE)


def image_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, color_mode="rgb",
                                 batch_size=32, image_size=(256, 256), shuffle=True, seed=None, validation_split=None,
                                 subset=None, interpolation="bilinear", follow_links=False,
                                 crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, data_format=None,
                                 verbose=True):
    channels = {"rgb": 3, "rgba": 4, "grayscale": 1}.get(color_mode)
    if channels is None:
        raise ValueError(f"color_mode must be 'rgb', 'rgba' or 'grayscale'; got {color_mode!r}.")
    if crop_to_aspect_ratio or pad_to_aspect_ratio:
        raise NotImplementedError("crop_to_aspect_ratio / pad_to_aspect_ratio are not supported here; resize, "
                                  "then crop with tf.image.resize_with_crop_or_pad in a map.")
    if subset == "both":
        return [image_dataset_from_directory(directory, labels, label_mode, class_names, color_mode, batch_size,
                                             image_size, shuffle, seed, validation_split, part, interpolation,
                                             follow_links) for part in ("training", "validation")]
    paths, ids, classes, seed = _index(directory, labels, class_names, _IMAGE_FORMATS, shuffle, seed, follow_links)
    paths, ids = _split(paths, ids, validation_split, subset)
    size = tuple(int(s) for s in image_size)

    def load(path):
        img = decode_image(read_file(path), channels=channels)
        return resize(img, size, method=interpolation)
    images = [as_plain(load(p)) for p in paths]
    stacked = torch.stack(images) if images else torch.zeros((0,) + size + (channels,))
    ds = Dataset.from_tensor_slices(wrap(stacked))
    labels_arr = None if label_mode is None else _labels(ids, label_mode, len(classes))
    ds = _finish(ds, labels_arr, batch_size, shuffle, seed)
    ds.class_names, ds.file_paths = classes, paths
    return ds


def text_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, batch_size=32,
                                max_length=None, shuffle=True, seed=None, validation_split=None, subset=None,
                                follow_links=False, verbose=True):
    if subset == "both":
        return [text_dataset_from_directory(directory, labels, label_mode, class_names, batch_size, max_length,
                                            shuffle, seed, validation_split, part, follow_links)
                for part in ("training", "validation")]
    paths, ids, classes, seed = _index(directory, labels, class_names, (".txt",), shuffle, seed, follow_links)
    paths, ids = _split(paths, ids, validation_split, subset)
    texts = []
    for p in paths:
        with open(p, "rb") as f:
            data = f.read()
        texts.append(data[:max_length] if max_length is not None else data)
    column = np.empty(len(texts), dtype=object)
    column[:] = texts
    ds = Dataset.from_tensor_slices(StringTensor(column))
    labels_arr = None if label_mode is None else _labels(ids, label_mode, len(classes))
    ds = _finish(ds, labels_arr, batch_size, shuffle, seed)
    ds.class_names, ds.file_paths = classes, paths
    return ds
