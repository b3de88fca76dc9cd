"""Label and array helpers of `keras.utils`: one-hot encoding and normalisation."""
import numpy as np

__all__ = ["to_categorical", "normalize"]


def to_categorical(x, num_classes=None):
    """Integer class labels (N,) -> one-hot float32 rows (N, num_classes), as `keras.utils.to_categorical`.

    A trailing axis of size 1 is dropped first ((N, 1) -> (N, C)); num_classes defaults to max + 1.
    """
    x = np.asarray(x)
    if x.dtype.kind == "f":
        if not np.all(np.equal(np.mod(x, 1), 0)):
            raise ValueError("to_categorical expects integer class labels; got non-integer values.")
    x = x.astype("int64")
    if x.ndim > 1 and x.shape[-1] == 1:
        x = x.reshape(x.shape[:-1])
    if x.size and x.min() < 0:
        raise ValueError(f"to_categorical: labels must be >= 0; got min {x.min()}.")
    if num_classes is None:
        num_classes = int(x.max()) + 1 if x.size else 0
    elif x.size and x.max() >= num_classes:
        raise ValueError(f"to_categorical: label {x.max()} does not fit num_classes={num_classes} "
                         f"(labels must be in [0, {num_classes})).")
    out = np.zeros(x.shape + (num_classes,), dtype="float32")
    np.put_along_axis(out, x[..., None], 1.0, axis=-1)
    return out


def normalize(x, axis=-1, order=2):
    """x / ||x|| along `axis` (the L`order` norm), zeros stay zeros."""
    x = np.asarray(x, dtype="float32")
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    norm[norm == 0] = 1
    return x / norm
