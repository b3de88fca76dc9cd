"""Checks for lesson 01, tensors: rank, shape, dtype, numpy interop, broadcasting."""
import numpy as np
import torch

from course.exercises import seeding
from course.exercises.expect import CheckFailure, expect_close
from course.exercises.registry import exercise

__all__ = []


def _unchanged(before, after, what):
    if isinstance(before, np.ndarray):
        same = np.array_equal(before, after)
    else:
        same = torch.equal(before, after)
    if not same:
        raise CheckFailure(en=f"{what} modified its input in place; return a new tensor instead "
                              f"(avoid in-place methods such as div_ / sub_ on the argument).",
                           zh=f"{what} 原地修改了输入；请返回一个新的张量（不要对参数使用 div_ / sub_ 这类原地方法）。")


@exercise("1.1", name="prepare_images", points=2)
def _check_prepare_images(prepare_images):
    """uint8 numpy images (N, H, W) -> float32 torch tensor (N, H, W, 1) in [0, 1]."""
    rng = seeding.numpy_rng(11)
    for shape in ((3, 28, 28), (2, 4, 5)):
        images = rng.integers(0, 256, size=shape, dtype=np.uint8)
        images[0, 0, 0], images[-1, -1, -1] = 0, 255
        keep = images.copy()
        got = prepare_images(images)
        expected = torch.from_numpy(keep).to(torch.float32).div(255.0).unsqueeze(-1)  # (N, H, W, 1)
        if (isinstance(got, torch.Tensor) and got.shape == expected.shape and got.is_floating_point()
                and torch.allclose(got.float(), expected * 255.0)):
            raise CheckFailure(en=f"prepare_images(images) with images of shape {shape}: the values run from 0 to "
                                  f"255; divide by 255.0 so that they lie in [0, 1].",
                               zh=f"prepare_images(images)（images 的形状为 {shape}）：结果的值在 0 到 255 之间；"
                                  f"请除以 255.0，使它们落在 [0, 1] 区间内。")
        expect_close(got, expected, what="prepare_images(images)", inputs={"images": images},
                     kind="torch", rtol=1e-6, atol=1e-7)
        _unchanged(keep, images, "prepare_images")


@exercise("1.2", name="one_hot", points=2)
def _check_one_hot(one_hot):
    """int64 labels (N,) -> float32 (N, depth), like tf.one_hot(labels, depth)."""
    for labels, depth in (([0, 3, 9, 3], 10), ([2, 0, 1], 3), ([1], 5)):
        y = torch.tensor(labels, dtype=torch.int64)
        got = one_hot(y.clone(), depth)
        expected = (y[:, None] == torch.arange(depth)[None, :]).to(torch.float32)  # (N, depth)
        if isinstance(got, torch.Tensor) and got.dtype == torch.int64 and got.shape == expected.shape:
            raise CheckFailure(en=f"one_hot({labels}, {depth}): dtype: expected float32 (as tf.one_hot gives), "
                                  f"got int64 -- torch.nn.functional.one_hot returns integers; convert with .float().",
                               zh=f"one_hot({labels}, {depth})：数据类型：期望 float32（与 tf.one_hot 的结果一致），"
                                  f"得到 int64——torch.nn.functional.one_hot 返回整数；请用 .float() 转换。")
        expect_close(got, expected, what=f"one_hot(labels, {depth})", inputs={"labels": y}, kind="torch")


@exercise("1.3", name="standardize", points=2)
def _check_standardize(standardize):
    """(x - mean over the batch) / population std, per feature column."""
    g = seeding.torch_generator(3)
    for n, d in ((6, 3), (50, 4)):
        x = torch.randn(n, d, generator=g) * torch.tensor([1.0, 10.0, 0.5, 3.0][:d]) + 5.0  # (N, D)
        keep = x.clone()
        got = standardize(x)
        expected = (keep - keep.mean(dim=0)) / keep.std(dim=0, correction=0)              # (N, D)
        unbiased = (keep - keep.mean(dim=0)) / keep.std(dim=0, correction=1)
        if (isinstance(got, torch.Tensor) and got.shape == unbiased.shape
                and torch.allclose(got, unbiased, atol=1e-5) and not torch.allclose(got, expected, atol=1e-5)):
            raise CheckFailure(en=f"standardize(x) with x of shape {(n, d)}: you divided by the unbiased std "
                                  f"(N - 1 in the denominator, torch.std's default); TensorFlow's "
                                  f"tf.math.reduce_std and this exercise divide by N: use correction=0.",
                               zh=f"standardize(x)（x 的形状为 {(n, d)}）：你除以的是无偏标准差（分母为 N - 1，"
                                  f"这是 torch.std 的默认行为）；TensorFlow 的 tf.math.reduce_std 和本练习都除以 N："
                                  f"请使用 correction=0。")
        expect_close(got, expected, what="standardize(x)", inputs={"x": keep}, kind="torch",
                     rtol=1e-4, atol=1e-5)
        _unchanged(keep, x, "standardize")


@exercise("1.4", name="pairwise_sq_distances", points=2)
def _check_pairwise_sq_distances(pairwise_sq_distances):
    """a (N, D), b (M, D) -> (N, M) with out[i, j] = sum_k (a[i, k] - b[j, k])^2."""
    a = torch.tensor([[0.0, 0.0], [1.0, 2.0], [3.0, -1.0]])            # (3, 2)
    b = torch.tensor([[1.0, 1.0], [0.0, 2.0]])                         # (2, 2)
    g = seeding.torch_generator(5)
    big_a, big_b = torch.randn(7, 5, generator=g), torch.randn(4, 5, generator=g)
    for x, y in ((a, b), (big_a, big_b)):
        got = pairwise_sq_distances(x.clone(), y.clone())
        expected = ((x[:, None, :] - y[None, :, :]) ** 2).sum(dim=-1)   # (N, M)
        if isinstance(got, torch.Tensor) and tuple(got.shape) == (y.shape[0], x.shape[0]) != tuple(expected.shape):
            raise CheckFailure(en=f"pairwise_sq_distances(a, b): shape: expected (N, M) = {tuple(expected.shape)}, "
                                  f"got {tuple(got.shape)} -- rows should follow a, columns b (transposed?).",
                               zh=f"pairwise_sq_distances(a, b)：形状：期望 (N, M) = {tuple(expected.shape)}，"
                                  f"得到 {tuple(got.shape)}——行应对应 a，列应对应 b（是不是转置了？）。")
        expect_close(got, expected, what="pairwise_sq_distances(a, b)", inputs={"a": x, "b": y},
                     kind="torch", rtol=1e-5, atol=1e-5)
