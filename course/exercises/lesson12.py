"""Checks for lesson 12, data pipelines: a minibatch iterator, TensorFlow's shuffle buffer, a
normalising map function for tf.data, and a PyTorch Dataset.

References are computed independently: batches from `torch.arange(...).split(...)` and set
algebra, the shuffle buffer re-run here with the same injected random draws (and TensorFlow's
displacement bound out[k] <= k + B - 1, checked against real TensorFlow in the lesson's tests),
normalised images in NumPy, and Dataset items from the raw arrays and `DataLoader`'s own collation.
"""
import random

import numpy as np
import torch

from course.exercises import seeding
from course.exercises.expect import CheckFailure, as_tensor, describe, expect, expect_close, expect_equal
from course.exercises.fixtures import Fixture, probe
from course.exercises.registry import exercise
from course.exercises.remote import RemoteObject, current
from course.exercises.seeding import numpy_rng

__all__ = []

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


# -- 12.1 ---------------------------------------------------------------------------------------

def _as_batches(result, what):
    try:
        batches = list(result)
    except TypeError:
        raise CheckFailure(f"{what}: expected a list of 1-D index tensors, got {describe(result)}.") from None
    out = []
    for k, b in enumerate(batches):
        t = as_tensor(b)
        if t is None or t.dim() != 1:
            raise CheckFailure(f"{what}: batch {k} should be a 1-D tensor of indices, got {describe(b)}.")
        if t.dtype != torch.int64:
            raise CheckFailure(f"{what}: batch {k} has dtype {str(t.dtype).replace('torch.', '')}; indices are "
                               f"int64 (torch.randperm and torch.arange give int64).")
        out.append(t)
    return out


@exercise("12.1", name="minibatch_indices", points=2)
def _check_minibatch_indices(minibatch_indices):
    """Indices 0..n-1 cut into batches of batch_size, shuffled per call, the short last batch dropped on request."""
    # without shuffling: the order is fixed, compare exactly
    for n, bs, drop in ((10, 4, False), (10, 4, True), (12, 4, False), (12, 4, True), (3, 5, False), (3, 5, True),
                        (0, 4, False), (1, 1, False)):
        what = f"minibatch_indices({n}, {bs}, shuffle=False, drop_last={drop})"
        got = _as_batches(minibatch_indices(n, bs, shuffle=False, drop_last=drop), what)
        expected = [b for b in torch.arange(n).split(bs) if not (drop and len(b) < bs)]
        sizes, want = [len(b) for b in got], [len(b) for b in expected]
        if sizes != want:
            hint = ""
            if drop and sizes == want + [n % bs]:
                hint = " With drop_last=True the short last batch is left out."
            elif not drop and sizes + [n % bs] == want:
                hint = " With drop_last=False the short last batch is kept."
            raise CheckFailure(f"{what}: batch sizes: expected {want}, got {sizes}.{hint}")
        for k, (g, e) in enumerate(zip(got, expected)):
            expect_equal(g.tolist(), e.tolist(), what=f"{what}: batch {k}")

    # with shuffling: a permutation, different per call, reproducible from the generator's seed
    for n, bs, drop in ((50, 8, False), (50, 8, True), (64, 16, False), (7, 10, False)):
        what = f"minibatch_indices({n}, {bs}, shuffle=True, drop_last={drop}, generator=g)"
        seed = int(numpy_rng(121).integers(2**31))
        g = current().make(Fixture("torch_generator", seed))       # its state carries from call to call
        first = _as_batches(minibatch_indices(n, bs, shuffle=True, drop_last=drop, generator=g), what)
        second = _as_batches(minibatch_indices(n, bs, shuffle=True, drop_last=drop, generator=g), what)
        again = _as_batches(minibatch_indices(n, bs, shuffle=True, drop_last=drop,
                                              generator=Fixture("torch_generator", seed)), what)
        full, rest = n // bs, n % bs
        want = [bs] * full + ([] if drop or rest == 0 else [rest])
        expect_equal([len(b) for b in first], want, what=f"{what}: batch sizes")
        flat = torch.cat(first) if first else torch.zeros(0, dtype=torch.int64)
        if len(set(flat.tolist())) != len(flat) or not set(flat.tolist()) <= set(range(n)):
            raise CheckFailure(f"{what}: every index in 0..{n - 1} must appear at most once; got "
                               f"{sorted(flat.tolist())[:20]}...")
        if n >= 20:
            if flat.tolist() == sorted(flat.tolist()):
                raise CheckFailure(f"{what}: the indices come out in order; with shuffle=True draw a random "
                                   f"permutation first (torch.randperm(n, generator=generator)).")
            chunks = [set(c.tolist()) for c in torch.arange(n).split(bs)]
            if all(set(b.tolist()) == c for b, c in zip(first, chunks)):
                raise CheckFailure(f"{what}: each batch holds consecutive indices, only mixed inside the batch; "
                                   f"shuffle all n indices first, then cut them into batches.")
            if [b.tolist() for b in first] == [b.tolist() for b in second]:
                raise CheckFailure(f"{what}: two calls with the same generator gave the same order; each call is "
                                   f"an epoch and must draw a new permutation from the generator (do not re-seed "
                                   f"it inside the function).")
            if drop and rest:
                lost1 = set(range(n)) - set(flat.tolist())
                lost2 = set(range(n)) - set(torch.cat(second).tolist())
                if lost1 == lost2 == set(range(n - rest, n)):
                    raise CheckFailure(f"{what}: the dropped indices are always the last {rest}; shuffle before "
                                       f"dropping, so that a different short batch is left out in each epoch.")
        elif not drop:
            expect_equal(sorted(flat.tolist()), list(range(n)), what=f"{what}: the indices, sorted")
        expect_equal([b.tolist() for b in again], [b.tolist() for b in first],
                     what=f"{what}: a new generator with the same seed must give the same batches")
    unseeded = _as_batches(minibatch_indices(30, 7, shuffle=True, drop_last=False), "minibatch_indices(30, 7)")
    expect_equal(sorted(torch.cat(unseeded).tolist()), list(range(30)),
                 what="minibatch_indices(30, 7) without a generator: the indices, sorted")


# -- 12.2 ---------------------------------------------------------------------------------------

def _shuffle_ref(items, buffer_size, randrange, *, drain="pop", stream="replace"):
    """TensorFlow's buffer shuffle (and two variants used to recognise mistakes)."""
    buffer, out = [], []
    for item in items:
        if len(buffer) < buffer_size:
            buffer.append(item)
            continue
        j = randrange(len(buffer))
        if stream == "replace":
            out.append(buffer[j])
            buffer[j] = item
        else:                                   # pop and append: also uniform, but not TF's bookkeeping
            out.append(buffer.pop(j))
            buffer.append(item)
    while buffer:
        if drain == "in order":
            out.extend(buffer)
            break
        j = randrange(len(buffer))
        if drain == "pop":
            out.append(buffer.pop(j))
        else:                                   # swap the last element into the hole
            out.append(buffer[j])
            buffer[j] = buffer[-1]
            buffer.pop()
    return out


@exercise("12.2", name="shuffle_buffer", points=3)
def _check_shuffle_buffer(shuffle_buffer):
    """fill the buffer; then emit a random slot and put the next item there; at the end drain at random."""
    cases = [(list(range(20)), 1), (list(range(20)), 5), (list(range(20)), 20), (list(range(12)), 50),
             (list("abcdefghijklmnop"), 4), ([], 3), (range(40), 7)]
    for k, (items, buffer_size) in enumerate(cases):
        shown = f"list(range({len(items)}))" if isinstance(items, list) and items and isinstance(items[0], int) \
            else (f"iter(range({len(items)}))" if isinstance(items, range) else repr(items))
        what = f"shuffle_buffer({shown}, buffer_size={buffer_size}, randrange)"
        seed = int(numpy_rng(122).integers(2**31)) + k
        source = Fixture("iterator", list(items)) if isinstance(items, range) else list(items)
        try:
            got = shuffle_buffer(source, buffer_size, Fixture("randrange", seed))
            got = list(got)
        except TypeError as exc:
            if isinstance(items, range) and "len" in str(exc):
                raise CheckFailure(f"{what}: {exc}. `items` may be any iterable (here an iterator, as a "
                                   f"dataset's input is): loop over it with `for item in items`.") from None
            raise
        pop = _shuffle_ref(list(items), buffer_size, random.Random(seed).randrange, drain="pop")
        swap = _shuffle_ref(list(items), buffer_size, random.Random(seed).randrange, drain="swap")   # also accepted
        if got in (pop, swap):
            continue
        if sorted(map(str, got)) != sorted(map(str, items)):
            raise CheckFailure(f"{what}: the output must hold every item exactly once; got {got[:24]}"
                               f"{' ...' if len(got) > 24 else ''} (expected a permutation of {len(items)} items).")
        if got == _shuffle_ref(list(items), buffer_size, random.Random(seed).randrange, drain="in order"):
            raise CheckFailure(f"{what}: at the end the buffer is emitted in order; drain it at random too: "
                               f"j = randrange(len(buffer)), emit buffer.pop(j), until it is empty.")
        if got == _shuffle_ref(list(items), buffer_size, random.Random(seed).randrange, stream="pop-append"):
            raise CheckFailure(f"{what}: you popped the chosen item and appended the new one; TensorFlow puts the "
                               f"new item into the chosen slot: out = buffer[j]; buffer[j] = item.")
        raise CheckFailure(f"{what}: with the same random draws expected {pop[:24]}{' ...' if len(pop) > 24 else ''}, "
                           f"got {got[:24]}{' ...' if len(got) > 24 else ''}. Fill the buffer with the first "
                           f"buffer_size items; for each further item draw j = randrange(len(buffer)), emit buffer[j] "
                           f"and put the item in its place; then drain with buffer.pop(randrange(len(buffer))).")
    # TensorFlow's bound: the element at input position i cannot come out before position i - B + 1
    out = list(shuffle_buffer(list(range(300)), 10, Fixture("randrange", int(numpy_rng(123).integers(2**31)))))
    late = [(k, v) for k, v in enumerate(out) if v > k + 9]
    expect(not late, f"shuffle_buffer(list(range(300)), 10, randrange): item {late[0][1] if late else ''} came out "
                     f"at position {late[0][0] if late else ''}, before it could have entered a buffer of 10.")


# -- 12.3 ---------------------------------------------------------------------------------------

def _normalize_ref(images, labels):
    x = (images.astype(np.float32) / np.float32(255.0) - np.float32(MNIST_MEAN)) / np.float32(MNIST_STD)
    return x[..., None], labels.astype(np.int64)


@exercise("12.3", name="normalize", points=2)
def _check_normalize(normalize):
    """map function: uint8 image (..., H, W), label -> float32 (..., H, W, 1) standardised, int64 label."""
    from course import tf
    rng = seeding.numpy_rng(123)
    images = rng.integers(0, 256, size=(7, 6, 5), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    labels = rng.integers(0, 10, size=7).astype(np.uint8)                     # Keras' MNIST labels are uint8
    ex, ey = _normalize_ref(images, labels)

    what = "normalize(image, label) on one image (6, 5) uint8 and its label"
    result = normalize(tf.constant(images[0]), tf.constant(labels[0]))
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailure(f"{what}: return a pair (image, label), as the map function of a dataset of pairs; "
                           f"got {describe(result)}.")
    gx, gy = (as_tensor(v) for v in result)
    expect(gx is not None and gy is not None, f"{what}: expected two tensors, got {describe(result)}.")
    if tuple(gx.shape) == (6, 5):
        raise CheckFailure(f"{what}: the image has shape (6, 5); add the channel axis at the end, (6, 5, 1), "
                           f"with tf.expand_dims(image, -1): Conv2D wants (height, width, channels).")
    if gx.is_floating_point() and tuple(gx.shape) == (6, 5, 1) and np.allclose(gx.double().numpy(),
                                                                               images[0, ..., None] / 255.0, atol=1e-5):
        raise CheckFailure(f"{what}: the pixels are scaled to [0, 1] but not standardised: subtract the mean "
                           f"{MNIST_MEAN} and divide by the standard deviation {MNIST_STD}.")
    if gx.dtype == torch.float64:
        raise CheckFailure(f"{what}: the image is float64; cast to float32 first (tf.cast(image, tf.float32)).")
    expect_close(gx, torch.from_numpy(ex[0]), what=f"{what}: the image", rtol=1e-5, atol=1e-5)
    if gy.dtype != torch.int64:
        raise CheckFailure(f"{what}: the label has dtype {str(gy.dtype).replace('torch.', '')}; cast it to int64 "
                           f"(tf.cast(label, tf.int64)), the type sparse categorical losses expect.")
    expect_equal(int(gy), int(ey[0]), what=f"{what}: the label")

    for order in ("map then batch", "batch then map"):
        chain = "map(normalize).batch(3)" if order == "map then batch" else "batch(3).map(normalize)"
        what = f"tf.data.Dataset.from_tensor_slices((images, labels)).{chain}"
        r = probe("probe_dataset_map", normalize, images, labels, order)
        if "error" in r:
            hint = (" After batch() the function receives a whole batch (3, 6, 5): write it with axis -1 "
                    "(tf.expand_dims(image, -1)) instead of fixed shapes, so it works on one image and on a "
                    "batch." if order == "batch then map" else "")
            raise CheckFailure(f"{what} failed: {r['error']}.{hint}")
        batches = r["batches"]
        bx = np.concatenate([np.asarray(b[0]) for b in batches])
        by = np.concatenate([np.asarray(b[1]) for b in batches])
        if bx.shape != ex.shape and order == "batch then map":
            raise CheckFailure(f"{what}: images of shape {bx.shape}, expected {ex.shape}. After batch() the function "
                               f"receives a whole batch: add the channel axis with axis -1.")
        expect_close(bx, ex, what=f"{what}: all images", rtol=1e-5, atol=1e-5)
        expect_close(by, ey, what=f"{what}: all labels")


# -- 12.4 ---------------------------------------------------------------------------------------

@exercise("12.4", name="ArrayDataset", points=2)
def _check_array_dataset(ArrayDataset):
    """Dataset over in-memory uint8 images: item i = (float32 (1, H, W) in [0, 1], transformed; int label)."""
    expect(isinstance(ArrayDataset, RemoteObject) and ArrayDataset.remote_is_class
           and ArrayDataset.remote_isinstance("torch.utils.data.dataset.Dataset"),
           f"ArrayDataset should be a class derived from torch.utils.data.Dataset; got {describe(ArrayDataset)}.")
    rng = seeding.numpy_rng(124)
    images = rng.integers(0, 256, size=(10, 4, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, size=10).astype(np.int64)
    for kind in ("numpy", "torch"):
        imgs = images.copy() if kind == "numpy" else torch.from_numpy(images.copy())
        lbls = labels.copy() if kind == "numpy" else torch.from_numpy(labels.copy())
        what = f"ArrayDataset(images, labels) with {kind} images (10, 4, 3) uint8"
        ds = ArrayDataset(imgs, lbls)
        expect_equal(len(ds), 10, what=f"len({what})")
        for i in (0, 7, -1):
            item = ds[i]
            expect(isinstance(item, (tuple, list)) and len(item) == 2,
                   f"{what}[{i}]: expected a pair (image, label), got {describe(item)}.")
            image, label = item
            expected = torch.from_numpy(images[i].astype(np.float32) / 255.0)[None]   # (1, 4, 3)
            gi = as_tensor(image)
            if gi is not None and tuple(gi.shape) == (4, 3):
                raise CheckFailure(f"{what}[{i}]: the image has shape (4, 3); PyTorch images are channels first: "
                                   f"return (1, 4, 3) (image[None] or unsqueeze(0)).")
            if gi is not None and gi.dtype == torch.uint8:
                raise CheckFailure(f"{what}[{i}]: the image is still uint8; convert to float32 and divide by 255.")
            expect_close(image, expected, what=f"{what}[{i}]: the image", kind="torch", rtol=1e-6, atol=1e-6)
            is_int = isinstance(label, (int, np.integer)) and not isinstance(label, bool)
            is_int = is_int or (isinstance(label, torch.Tensor) and label.dim() == 0 and not label.is_floating_point())
            expect(is_int, f"{what}[{i}]: the label should be an int (or a 0-d integer tensor); got {describe(label)}.")
            expect_equal(int(label), int(labels[i]), what=f"{what}[{i}]: the label")

    transform = current().make(Fixture("recording_transform"))      # t * 2 - 1, recording its calls
    ds = ArrayDataset(images.copy(), labels.copy(), transform=transform)
    calls = transform.calls
    expect(not calls, f"ArrayDataset(images, labels, transform) called the transform {len(calls)} times while being "
                      f"constructed; call it in __getitem__, once per item, so that random transforms differ per "
                      f"epoch.")
    image, _ = ds[3]
    calls = transform.calls
    expect(calls == [(1, 4, 3)], f"ArrayDataset(..., transform)[3]: the transform should be called once with the "
                                 f"(1, 4, 3) float image; it was called with {calls}.")
    expect_close(image, torch.from_numpy(images[3].astype(np.float32) / 255.0)[None] * 2.0 - 1.0,
                 what="ArrayDataset(..., transform=lambda t: t * 2 - 1)[3]", rtol=1e-6, atol=1e-6)

    xb, yb = probe("probe_first_batch", ArrayDataset.call_keep(images.copy(), labels.copy()), 4)
    expect_close(xb, torch.from_numpy(images[:4].astype(np.float32) / 255.0)[:, None],
                 what="the first batch of DataLoader(ArrayDataset(images, labels), batch_size=4): images")
    expect_close(yb, torch.from_numpy(labels[:4]), what="the first batch of DataLoader(...): labels")
