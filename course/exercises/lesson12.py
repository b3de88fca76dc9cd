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
from course.exercises.expect import CheckFailure, as_tensor, describe, expect, expect_close, expect_equal, say
from course.exercises.fixtures import Fixture
from course.exercises.outcome import outcome_task
from course.exercises.questions import question
from course.exercises.registry import exercise
from course.exercises.remote import RemoteObject, current, probe
from course.exercises.seeding import numpy_rng

__all__ = []

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


# -- 12.1 ---------------------------------------------------------------------------------------

def _as_batches(result, what):
    try:
        batches = list(result)
    except TypeError:
        raise CheckFailure(en=f"{what}: expected a list of 1-D index tensors, got {describe(result)}.",
                           zh=f"{what}：期望一个由一维索引张量组成的列表，得到 {describe(result, lang='zh')}。"
                           ) from None
    out = []
    for k, b in enumerate(batches):
        t = as_tensor(b)
        if t is None or t.dim() != 1:
            raise CheckFailure(en=f"{what}: batch {k} should be a 1-D tensor of indices, got {describe(b)}.",
                               zh=f"{what}：第 {k} 个批次应当是一维的索引张量，得到 {describe(b, lang='zh')}。")
        if t.dtype != torch.int64:
            dtype = str(t.dtype).replace('torch.', '')
            raise CheckFailure(en=f"{what}: batch {k} has dtype {dtype}; indices are "
                                  f"int64 (torch.randperm and torch.arange give int64).",
                               zh=f"{what}：第 {k} 个批次的数据类型是 {dtype}；索引应为 int64"
                                  f"（torch.randperm 和 torch.arange 给出的就是 int64）。")
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
            hint = say("", "")
            if drop and sizes == want + [n % bs]:
                hint = say(" With drop_last=True the short last batch is left out.",
                           "drop_last=True 时，不满的最后一个批次要舍弃。")
            elif not drop and sizes + [n % bs] == want:
                hint = say(" With drop_last=False the short last batch is kept.",
                           "drop_last=False 时，不满的最后一个批次要保留。")
            raise CheckFailure(en=f"{what}: batch sizes: expected {want}, got {sizes}.{hint.en}",
                               zh=f"{what}：各批次的大小：期望 {want}，得到 {sizes}。{hint.zh}")
        for k, (g, e) in enumerate(zip(got, expected)):
            expect_equal(g.tolist(), e.tolist(), what=say(f"{what}: batch {k}", f"{what}：第 {k} 个批次"))

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
        expect_equal([len(b) for b in first], want, what=say(f"{what}: batch sizes", f"{what}：各批次的大小"))
        flat = torch.cat(first) if first else torch.zeros(0, dtype=torch.int64)
        if len(set(flat.tolist())) != len(flat) or not set(flat.tolist()) <= set(range(n)):
            raise CheckFailure(en=f"{what}: every index in 0..{n - 1} must appear at most once; got "
                                  f"{sorted(flat.tolist())[:20]}...",
                               zh=f"{what}：0..{n - 1} 中的每个索引最多只能出现一次；得到 "
                                  f"{sorted(flat.tolist())[:20]}...")
        if n >= 20:
            if flat.tolist() == sorted(flat.tolist()):
                raise CheckFailure(en=f"{what}: the indices come out in order; with shuffle=True draw a random "
                                      f"permutation first (torch.randperm(n, generator=generator)).",
                                   zh=f"{what}：索引是按顺序输出的；shuffle=True 时要先抽取一个随机排列"
                                      f"（torch.randperm(n, generator=generator)）。")
            chunks = [set(c.tolist()) for c in torch.arange(n).split(bs)]
            if all(set(b.tolist()) == c for b, c in zip(first, chunks)):
                raise CheckFailure(en=f"{what}: each batch holds consecutive indices, only mixed inside the batch; "
                                      f"shuffle all n indices first, then cut them into batches.",
                                   zh=f"{what}：每个批次里都是连续的索引，只在批次内部打乱了；"
                                      f"应先打乱全部 n 个索引，再把它们切成批次。")
            if [b.tolist() for b in first] == [b.tolist() for b in second]:
                raise CheckFailure(en=f"{what}: two calls with the same generator gave the same order; each call is "
                                      f"an epoch and must draw a new permutation from the generator (do not re-seed "
                                      f"it inside the function).",
                                   zh=f"{what}：用同一个生成器调用两次，得到了相同的顺序；每次调用是一轮（epoch），"
                                      f"必须从生成器抽取新的排列（不要在函数内部重新设置种子）。")
            if drop and rest:
                lost1 = set(range(n)) - set(flat.tolist())
                lost2 = set(range(n)) - set(torch.cat(second).tolist())
                if lost1 == lost2 == set(range(n - rest, n)):
                    raise CheckFailure(en=f"{what}: the dropped indices are always the last {rest}; shuffle before "
                                          f"dropping, so that a different short batch is left out in each epoch.",
                                       zh=f"{what}：被舍弃的索引总是最后 {rest} 个；应先打乱再舍弃，"
                                          f"这样每一轮舍弃的是不同的不满批次。")
        elif not drop:
            expect_equal(sorted(flat.tolist()), list(range(n)),
                         what=say(f"{what}: the indices, sorted", f"{what}：排序后的索引"))
        expect_equal([b.tolist() for b in again], [b.tolist() for b in first],
                     what=say(f"{what}: a new generator with the same seed must give the same batches",
                              f"{what}：种子相同的新生成器必须给出相同的批次"))
    unseeded = _as_batches(minibatch_indices(30, 7, shuffle=True, drop_last=False), "minibatch_indices(30, 7)")
    expect_equal(sorted(torch.cat(unseeded).tolist()), list(range(30)),
                 what=say("minibatch_indices(30, 7) without a generator: the indices, sorted",
                          "minibatch_indices(30, 7)，不传生成器：排序后的索引"))


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
                raise CheckFailure(en=f"{what}: {exc}. `items` may be any iterable (here an iterator, as a "
                                      f"dataset's input is): loop over it with `for item in items`.",
                                   zh=f"{what}：`{exc}`。`items` 可以是任意可迭代对象（这里是一个迭代器，"
                                      f"和数据集的输入一样）：请用 `for item in items` 遍历它。") from None
            raise
        pop = _shuffle_ref(list(items), buffer_size, random.Random(seed).randrange, drain="pop")
        swap = _shuffle_ref(list(items), buffer_size, random.Random(seed).randrange, drain="swap")   # also accepted
        if got in (pop, swap):
            continue
        if sorted(map(str, got)) != sorted(map(str, items)):
            raise CheckFailure(en=f"{what}: the output must hold every item exactly once; got {got[:24]}"
                                  f"{' ...' if len(got) > 24 else ''} (expected a permutation of {len(items)} items).",
                               zh=f"{what}：输出必须恰好包含每个元素一次；得到 {got[:24]}"
                                  f"{' ...' if len(got) > 24 else ''}（期望 {len(items)} 个元素的一个排列）。")
        if got == _shuffle_ref(list(items), buffer_size, random.Random(seed).randrange, drain="in order"):
            raise CheckFailure(en=f"{what}: at the end the buffer is emitted in order; drain it at random too: "
                                  f"j = randrange(len(buffer)), emit buffer.pop(j), until it is empty.",
                               zh=f"{what}：最后缓冲区是按顺序输出的；清空缓冲区时也要随机取："
                                  f"j = randrange(len(buffer))，输出 buffer.pop(j)，直到缓冲区为空。")
        if got == _shuffle_ref(list(items), buffer_size, random.Random(seed).randrange, stream="pop-append"):
            raise CheckFailure(en=f"{what}: you popped the chosen item and appended the new one; TensorFlow puts the "
                                  f"new item into the chosen slot: out = buffer[j]; buffer[j] = item.",
                               zh=f"{what}：你弹出了选中的元素，再把新元素追加到末尾；TensorFlow 是把新元素放进"
                                  f"选中的那个位置：out = buffer[j]; buffer[j] = item。")
        more_pop, more_got = " ..." if len(pop) > 24 else "", " ..." if len(got) > 24 else ""
        raise CheckFailure(en=f"{what}: with the same random draws expected {pop[:24]}{more_pop}, "
                              f"got {got[:24]}{more_got}. Fill the buffer with the first "
                              f"buffer_size items; for each further item draw j = randrange(len(buffer)), emit "
                              f"buffer[j] and put the item in its place; then drain with "
                              f"buffer.pop(randrange(len(buffer))).",
                           zh=f"{what}：在相同的随机抽取下，期望 {pop[:24]}{more_pop}，得到 {got[:24]}{more_got}。"
                              f"先用前 buffer_size 个元素填满缓冲区；之后每来一个元素，抽取 "
                              f"j = randrange(len(buffer))，输出 buffer[j]，并把新元素放在它的位置上；最后用 "
                              f"buffer.pop(randrange(len(buffer))) 清空缓冲区。")
    # TensorFlow's bound: the element at input position i cannot come out before position i - B + 1
    out = list(shuffle_buffer(list(range(300)), 10, Fixture("randrange", int(numpy_rng(123).integers(2**31)))))
    late = [(k, v) for k, v in enumerate(out) if v > k + 9]
    item, at = (late[0][1], late[0][0]) if late else ("", "")
    expect(not late, en=f"shuffle_buffer(list(range(300)), 10, randrange): item {item} came out "
                        f"at position {at}, before it could have entered a buffer of 10.",
           zh=f"shuffle_buffer(list(range(300)), 10, randrange)：元素 {item} 出现在位置 {at}，"
              f"早于它可能进入大小为 10 的缓冲区的时刻。")


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

    what = say("normalize(image, label) on one image (6, 5) uint8 and its label",
               "normalize(image, label)，输入为一张 (6, 5) 的 uint8 图像及其标签")
    result = normalize(tf.constant(images[0]), tf.constant(labels[0]))
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailure(en=f"{what.en}: return a pair (image, label), as the map function of a dataset of pairs; "
                              f"got {describe(result)}.",
                           zh=f"{what.zh}：应返回一对值 (image, label)，这是由数据对组成的数据集的映射函数；"
                              f"得到 {describe(result, lang='zh')}。")
    gx, gy = (as_tensor(v) for v in result)
    expect(gx is not None and gy is not None, en=f"{what.en}: expected two tensors, got {describe(result)}.",
           zh=f"{what.zh}：期望两个张量，得到 {describe(result, lang='zh')}。")
    if tuple(gx.shape) == (6, 5):
        raise CheckFailure(en=f"{what.en}: the image has shape (6, 5); add the channel axis at the end, (6, 5, 1), "
                              f"with tf.expand_dims(image, -1): Conv2D wants (height, width, channels).",
                           zh=f"{what.zh}：图像的形状是 (6, 5)；请用 tf.expand_dims(image, -1) 在末尾加上通道轴，"
                              f"得到 (6, 5, 1)：Conv2D 要求 (height, width, channels)。")
    if gx.is_floating_point() and tuple(gx.shape) == (6, 5, 1) and np.allclose(gx.double().numpy(),
                                                                               images[0, ..., None] / 255.0, atol=1e-5):
        raise CheckFailure(en=f"{what.en}: the pixels are scaled to [0, 1] but not standardised: subtract the mean "
                              f"{MNIST_MEAN} and divide by the standard deviation {MNIST_STD}.",
                           zh=f"{what.zh}：像素缩放到了 [0, 1]，但没有标准化：请减去均值 {MNIST_MEAN}，"
                              f"再除以标准差 {MNIST_STD}。")
    if gx.dtype == torch.float64:
        raise CheckFailure(en=f"{what.en}: the image is float64; cast to float32 first (tf.cast(image, tf.float32)).",
                           zh=f"{what.zh}：图像是 float64；请先转换成 float32（tf.cast(image, tf.float32)）。")
    expect_close(gx, torch.from_numpy(ex[0]), what=what + say(": the image", "：图像"), rtol=1e-5, atol=1e-5)
    if gy.dtype != torch.int64:
        dtype = str(gy.dtype).replace('torch.', '')
        raise CheckFailure(en=f"{what.en}: the label has dtype {dtype}; cast it to int64 "
                              f"(tf.cast(label, tf.int64)), the type sparse categorical losses expect.",
                           zh=f"{what.zh}：标签的数据类型是 {dtype}；请把它转换成 int64"
                              f"（tf.cast(label, tf.int64)），这是稀疏分类损失函数要求的类型。")
    expect_equal(int(gy), int(ey[0]), what=what + say(": the label", "：标签"))

    for order in ("map then batch", "batch then map"):
        chain = "map(normalize).batch(3)" if order == "map then batch" else "batch(3).map(normalize)"
        what = f"tf.data.Dataset.from_tensor_slices((images, labels)).{chain}"
        r = probe("probe_dataset_map", normalize, images, labels, order)
        if "error" in r:
            hint = say(" After batch() the function receives a whole batch (3, 6, 5): write it with axis -1 "
                       "(tf.expand_dims(image, -1)) instead of fixed shapes, so it works on one image and on a "
                       "batch.",
                       "batch() 之后，函数接收的是整个批次 (3, 6, 5)：请用 axis -1（tf.expand_dims(image, -1)）"
                       "来写，而不要写死形状，这样它对单张图像和整个批次都适用。"
                       ) if order == "batch then map" else say("", "")
            raise CheckFailure(en=f"{what} failed: {r['error']}.{hint.en}",
                               zh=f"{what} 失败了：`{r['error'].rstrip('.')}`。{hint.zh}")
        batches = r["batches"]
        bx = np.concatenate([np.asarray(b[0]) for b in batches])
        by = np.concatenate([np.asarray(b[1]) for b in batches])
        if bx.shape != ex.shape and order == "batch then map":
            raise CheckFailure(en=f"{what}: images of shape {bx.shape}, expected {ex.shape}. After batch() the "
                                  f"function receives a whole batch: add the channel axis with axis -1.",
                               zh=f"{what}：图像的形状为 {bx.shape}，期望 {ex.shape}。batch() 之后，函数接收的是"
                                  f"整个批次：请用 axis -1 添加通道轴。")
        expect_close(bx, ex, what=say(f"{what}: all images", f"{what}：全部图像"), rtol=1e-5, atol=1e-5)
        expect_close(by, ey, what=say(f"{what}: all labels", f"{what}：全部标签"))


# -- 12.4 ---------------------------------------------------------------------------------------

@exercise("12.4", name="ArrayDataset", points=2)
def _check_array_dataset(ArrayDataset):
    """Dataset over in-memory uint8 images: item i = (float32 (1, H, W) in [0, 1], transformed; int label)."""
    expect(isinstance(ArrayDataset, RemoteObject) and ArrayDataset.remote_is_class
           and ArrayDataset.remote_isinstance("torch.utils.data.dataset.Dataset"),
           en=f"ArrayDataset should be a class derived from torch.utils.data.Dataset; got {describe(ArrayDataset)}.",
           zh=f"ArrayDataset 应当是继承自 torch.utils.data.Dataset 的类；得到 `{describe(ArrayDataset, lang='zh')}`。")
    rng = seeding.numpy_rng(124)
    images = rng.integers(0, 256, size=(10, 4, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, size=10).astype(np.int64)
    for kind in ("numpy", "torch"):
        imgs = images.copy() if kind == "numpy" else torch.from_numpy(images.copy())
        lbls = labels.copy() if kind == "numpy" else torch.from_numpy(labels.copy())
        call = "ArrayDataset(images, labels)"
        about = say(f" with {kind} images (10, 4, 3) uint8", f"（images 为 {kind} 的 (10, 4, 3) uint8 数组）")
        what = call + about
        ds = ArrayDataset(imgs, lbls)
        expect_equal(len(ds), 10, what=f"len({call})" + about)
        for i in (0, 7, -1):
            item = ds[i]
            at = f"{call}[{i}]" + about                                       # the item, in words
            expect(isinstance(item, (tuple, list)) and len(item) == 2,
                   en=f"{what.en}[{i}]: expected a pair (image, label), got {describe(item)}.",
                   zh=f"{at.zh}：期望一对值 (image, label)，得到 {describe(item, lang='zh')}。")
            image, label = item
            expected = torch.from_numpy(images[i].astype(np.float32) / 255.0)[None]   # (1, 4, 3)
            gi = as_tensor(image)
            if gi is not None and tuple(gi.shape) == (4, 3):
                raise CheckFailure(en=f"{what.en}[{i}]: the image has shape (4, 3); PyTorch images are channels "
                                      f"first: return (1, 4, 3) (image[None] or unsqueeze(0)).",
                                   zh=f"{at.zh}：图像的形状是 (4, 3)；PyTorch 的图像是通道在前的："
                                      f"应返回 (1, 4, 3)（image[None] 或 unsqueeze(0)）。")
            if gi is not None and gi.dtype == torch.uint8:
                raise CheckFailure(en=f"{what.en}[{i}]: the image is still uint8; "
                                      "convert to float32 and divide by 255.",
                                   zh=f"{at.zh}：图像仍是 uint8；请转换成 float32 并除以 255。")
            expect_close(image, expected, what=say(f"{what.en}[{i}]: the image", f"{at.zh}：图像"), kind="torch",
                         rtol=1e-6, atol=1e-6)
            is_int = isinstance(label, (int, np.integer)) and not isinstance(label, bool)
            is_int = is_int or (isinstance(label, torch.Tensor) and label.dim() == 0 and not label.is_floating_point())
            expect(is_int, en=f"{what.en}[{i}]: the label should be an int (or a 0-d integer tensor); "
                              f"got {describe(label)}.",
                   zh=f"{at.zh}：标签应当是 int（或 0 维整数张量）；得到 {describe(label, lang='zh')}。")
            expect_equal(int(label), int(labels[i]), what=say(f"{what.en}[{i}]: the label", f"{at.zh}：标签"))

    transform = current().make(Fixture("recording_transform"))      # t * 2 - 1, recording its calls
    ds = ArrayDataset(images.copy(), labels.copy(), transform=transform)
    calls = transform.calls
    expect(not calls, en=f"ArrayDataset(images, labels, transform) called the transform {len(calls)} times while "
                         f"being constructed; call it in __getitem__, once per item, so that random transforms differ "
                         f"per epoch.",
           zh=f"ArrayDataset(images, labels, transform) 在构造时调用了 transform {len(calls)} 次；"
              f"应在 __getitem__ 中调用它，每个样本一次，这样随机变换在每一轮都不同。")
    image, _ = ds[3]
    calls = transform.calls
    expect(calls == [(1, 4, 3)], en=f"ArrayDataset(..., transform)[3]: the transform should be called once with the "
                                    f"(1, 4, 3) float image; it was called with {calls}.",
           zh=f"ArrayDataset(..., transform)[3]：transform 应当以 (1, 4, 3) 的浮点图像调用一次；"
              f"实际调用时传入的是 {calls}。")
    expect_close(image, torch.from_numpy(images[3].astype(np.float32) / 255.0)[None] * 2.0 - 1.0,
                 what="ArrayDataset(..., transform=lambda t: t * 2 - 1)[3]", rtol=1e-6, atol=1e-6)

    xb, yb = probe("probe_first_batch", ArrayDataset.call_keep(images.copy(), labels.copy()), 4)
    expect_close(xb, torch.from_numpy(images[:4].astype(np.float32) / 255.0)[:, None],
                 what=say("the first batch of DataLoader(ArrayDataset(images, labels), batch_size=4): images",
                          "DataLoader(ArrayDataset(images, labels), batch_size=4) 的第一个批次：图像"))
    expect_close(yb, torch.from_numpy(labels[:4]), what=say("the first batch of DataLoader(...): labels",
                                                            "DataLoader(...) 的第一个批次：标签"))


# -- Section 7: conceptual questions (keys in the instructor's checks file) and a planted bug -----
question("12.5", name="answer_12_5", points=1, kind="choice", choices="abcd")
question("12.6", name="answer_12_6", points=1, kind="number")
outcome_task("12.7", name="train_sorted", points=3, order="sorted",
             practice={"target": 0.82, "seconds": 6, "n_train": 2000, "n_test": 1000})
