"""Checks for lesson 11, CNNs on MNIST: output sizes, convolution and max pooling by hand (NHWC),
seed002's CNN, and a GradientTape training step.

References are computed independently: output sizes by enumerating the window positions,
convolution and pooling with torch's NCHW kernels (`F.conv2d`, `F.max_pool2d`) on permuted inputs
with TensorFlow's SAME padding applied explicitly, parameter counts from k_h·k_w·c_in·f + f and
n_in·n_out + n_out, and the training step with torch autograd on a copy of the weights.
"""
import numbers

import numpy as np
import torch
import torch.nn.functional as F

from course.exercises import seeding
from course.exercises.expect import CheckFailure, as_tensor, describe, expect, expect_close, expect_equal, say
from course.exercises.fixtures import Fixture
from course.exercises.forbidden import SCRATCH, Forbid
from course.exercises.outcome import outcome_task
from course.exercises.questions import question
from course.exercises.registry import exercise
from course.exercises.remote import current, is_a, remote_type

__all__ = []


def _windows(size, kernel, stride, padding):
    """Start positions of the windows along one axis (TF rules), by enumeration."""
    if padding.upper() == "VALID":
        return list(range(0, size - kernel + 1, stride))
    return list(range(0, size, stride))          # SAME: one window per stride step, the input padded around


def _tf_same_pads(size, kernel, stride):
    """(before, after): enough zeros that the last SAME window fits; the odd one goes after."""
    last_start = (len(_windows(size, kernel, stride, "SAME")) - 1) * stride
    total = max(last_start + kernel - size, 0)
    return total // 2, total - total // 2


# -- 11.1 ---------------------------------------------------------------------------------------

@exercise("11.1", name="conv_output_size", points=2, forbid=SCRATCH)
def _check_conv_output_size(conv_output_size):
    """Output length of a convolution or pooling along one axis: SAME ⌈n/s⌉, VALID ⌈(n-k+1)/s⌉."""
    cases = [(28, 3, 1, "VALID"), (28, 5, 1, "SAME"), (26, 2, 2, "VALID"), (13, 3, 1, "VALID"), (11, 2, 2, "VALID"),
             (5, 3, 2, "SAME"), (4, 3, 2, "SAME"), (7, 3, 2, "VALID"), (6, 3, 2, "VALID"), (3, 3, 1, "VALID"),
             (1, 1, 1, "SAME"), (10, 4, 3, "same"), (10, 4, 3, "valid"), (28, 2, 2, "SAME"), (224, 7, 2, "SAME")]
    for size, kernel, stride, padding in cases:
        what = f"conv_output_size({size}, {kernel}, stride={stride}, padding={padding!r})"
        got = conv_output_size(size, kernel, stride=stride, padding=padding)
        expected = len(_windows(size, kernel, stride, padding))
        if isinstance(got, float) and float(got).is_integer() and int(got) == expected:
            raise CheckFailure(en=f"{what}: got {got!r}, a float; return an int (use // or math.ceil, which "
                                  f"return ints).",
                               zh=f"{what}：得到 {got!r}，这是浮点数；应返回 int（用 // 或 math.ceil，"
                                  f"它们返回整数）。")
        if isinstance(got, bool) or not isinstance(got, numbers.Integral):
            raise CheckFailure(en=f"{what}: expected an int, got {describe(got)}.",
                               zh=f"{what}：期望一个 int，得到 {describe(got, lang='zh')}。")
        if got != expected:
            hint = say("", "")
            if padding != padding.upper() and got == len(_windows(size, kernel, stride, "VALID")):
                hint = say(" Accept padding in any case ('same', 'SAME'), as Keras and tf.nn do: padding.upper().",
                           "padding 的大小写都应接受（'same'、'SAME'），Keras 和 tf.nn 都是这样：padding.upper()。")
            elif padding.upper() == "SAME" and got == size // stride:
                hint = say(" SAME rounds UP: ⌈n / s⌉ (a last, partly padded window still produces an output).",
                           "SAME 向上取整：⌈n / s⌉（最后一个部分落在填充区的窗口也会产生一个输出）。")
            elif padding.upper() == "SAME" and got == size - kernel + 1:
                hint = say(" That is VALID's size; SAME pads the input so that the output is ⌈n / s⌉.",
                           "这是 VALID 的输出大小；SAME 会填充输入，使输出为 ⌈n / s⌉。")
            elif padding.upper() == "VALID" and got == (size - kernel) // stride:
                hint = say(" Count the first window too: ⌊(n - k) / s⌋ + 1 = ⌈(n - k + 1) / s⌉.",
                           "第一个窗口也要算上：⌊(n - k) / s⌋ + 1 = ⌈(n - k + 1) / s⌉。")
            elif padding.upper() == "VALID" and got == -(-size // stride):
                hint = say(" That is SAME's size; VALID uses only windows that fit entirely: ⌈(n - k + 1) / s⌉.",
                           "这是 SAME 的输出大小；VALID 只使用完全落在输入内的窗口：⌈(n - k + 1) / s⌉。")
            raise CheckFailure(en=f"{what}: expected {expected}, got {got}.{hint.en}",
                               zh=f"{what}：期望 {expected}，得到 {got}。{hint.zh}")


# -- 11.2 ---------------------------------------------------------------------------------------

def _conv_reference(x, kernel, bias, stride, padding):
    """TF's conv2d on NHWC with an (KH, KW, C, F) kernel, by torch's NCHW F.conv2d."""
    kh, kw = kernel.shape[:2]
    if padding == "SAME":
        top, bottom = _tf_same_pads(x.shape[1], kh, stride)
        left, right = _tf_same_pads(x.shape[2], kw, stride)
        x = F.pad(x, (0, 0, left, right, top, bottom))                     # (N, H+t+b, W+l+r, C)
    out = F.conv2d(x.permute(0, 3, 1, 2), kernel.permute(3, 2, 0, 1), bias, stride=stride)   # (N, F, OH, OW)
    return out.permute(0, 2, 3, 1)                                          # (N, OH, OW, F)


def _conv_cases():
    g = seeding.torch_generator(112)
    r = lambda *s: torch.randn(*s, generator=g)                            # noqa: E731
    x0 = torch.arange(25.0).reshape(1, 5, 5, 1)                            # a tiny ramp image
    k0 = torch.tensor([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]]).reshape(3, 3, 1, 1)   # Sobel x
    return [
        (say("a 5x5 ramp image and a 3x3 Sobel kernel", "一张 5x5 的渐变图像和一个 3x3 的 Sobel 卷积核"),
         x0, k0, torch.tensor([0.5]), 1, "VALID"),
        (say("x (2, 6, 7, 3), kernel (3, 2, 3, 4)", " x (2, 6, 7, 3)，kernel (3, 2, 3, 4)"),
         r(2, 6, 7, 3), r(3, 2, 3, 4), r(4), 1, "VALID"),
        (say("x (2, 7, 7, 2), kernel (3, 3, 2, 3)", " x (2, 7, 7, 2)，kernel (3, 3, 2, 3)"),
         r(2, 7, 7, 2), r(3, 3, 2, 3), r(3), 1, "SAME"),
        (say("x (1, 6, 6, 1), kernel (3, 3, 1, 2), stride 2", " x (1, 6, 6, 1)，kernel (3, 3, 1, 2)，步幅 2"),
         r(1, 6, 6, 1), r(3, 3, 1, 2), r(2), 2, "SAME"),
        (say("x (3, 8, 8, 2), kernel (2, 2, 2, 2), stride 2", " x (3, 8, 8, 2)，kernel (2, 2, 2, 2)，步幅 2"),
         r(3, 8, 8, 2), r(2, 2, 2, 2), r(2), 2, "VALID"),
        (say("x (1, 7, 5, 2), kernel (4, 2, 2, 3), stride 2", " x (1, 7, 5, 2)，kernel (4, 2, 2, 3)，步幅 2"),
         r(1, 7, 5, 2), r(4, 2, 2, 3), r(3), 2, "SAME"),
    ]


_NO_CONV = Forbid(
    names=("torch.nn.functional.conv2d", "torch.conv2d", "torch.convolution", "torch.nn.Conv2d",
           "torch.nn.functional.conv_transpose2d", "course.tf.nn.conv2d", "course.tf.nn.convolution",
           "course.tf.keras.layers.Conv2D", "course.keras.layers.Conv2D", "course.tape.nn.conv2d",
           "course.graph.conv_ops", "course.layers.conv2d", "course.scratch.conv"),
    methods=(),
    why=say("Exercise 11.2 computes the convolution itself (loops or einsum over patches): F.conv2d, "
            "tf.nn.conv2d and the library's convolution kernels are not allowed.",
            "练习 11.2 要自己计算卷积（用循环，或对图像块用 einsum）：不能使用 F.conv2d、tf.nn.conv2d "
            "和库里的卷积实现。"))


@exercise("11.2", name="conv2d_nhwc", points=3, forbid=_NO_CONV + SCRATCH)
def _check_conv2d_nhwc(conv2d_nhwc):
    """y[n,i,j,f] = Σ_{u,v,c} x_pad[n, i·s+u, j·s+v, c] · k[u,v,c,f] + b[f], NHWC, TF padding."""
    for label, x, kernel, bias, stride, padding in _conv_cases():
        call = f"conv2d_nhwc(x, kernel, bias, stride={stride}, padding={padding!r})"
        what = say(f"{call} with {label.en}", f"{call}，输入为{label.zh}")
        keep = (x.clone(), kernel.clone(), bias.clone())
        got = conv2d_nhwc(x.clone(), kernel.clone(), bias.clone(), stride=stride, padding=padding)
        expected = _conv_reference(*keep, stride, padding)
        g = as_tensor(got)
        expect(g is not None, en=f"{what.en}: expected a tensor, got {describe(got)}.",
               zh=f"{what.zh}：期望一个张量，得到 {describe(got, lang='zh')}。")
        n, oh, ow, f = expected.shape
        if tuple(g.shape) == (n, f, oh, ow) and (f, oh) != (oh, ow):
            raise CheckFailure(en=f"{what.en}: got shape {tuple(g.shape)} = (N, F, OH, OW), PyTorch's layout; return "
                                  f"channels-last (N, OH, OW, F) = {tuple(expected.shape)}.",
                               zh=f"{what.zh}：得到形状 {tuple(g.shape)} = (N, F, OH, OW)，这是 PyTorch 的布局；"
                                  f"应返回通道在后的 (N, OH, OW, F) = {tuple(expected.shape)}。")
        if tuple(g.shape) == tuple(expected.shape) and g.dtype == expected.dtype:
            flipped = _conv_reference(keep[0], keep[1].flip(0, 1), keep[2], stride, padding)
            if torch.allclose(g, flipped, atol=1e-4) and not torch.allclose(flipped, expected, atol=1e-4):
                raise CheckFailure(en=f"{what.en}: you flipped the kernel (true convolution). Deep learning's "
                                      f"'convolution' is cross-correlation: y[i, j] = Σ x[i·s+u, j·s+v] · k[u, v].",
                                   zh=f"{what.zh}：你翻转了卷积核（数学意义上的卷积）。深度学习中的“卷积”其实是"
                                      f"互相关：y[i, j] = Σ x[i·s+u, j·s+v] · k[u, v]。")
            no_bias = expected - keep[2]
            if torch.allclose(g, no_bias, atol=1e-4):
                raise CheckFailure(en=f"{what.en}: the bias is missing; add b[f] to every output of filter f.",
                                   zh=f"{what.zh}：漏掉了偏置；请给滤波器 f 的每个输出加上 b[f]。")
            if padding == "SAME" and stride > 1:
                sym = F.conv2d(keep[0].permute(0, 3, 1, 2), keep[1].permute(3, 2, 0, 1), keep[2], stride=stride,
                               padding=(kernel.shape[0] // 2, kernel.shape[1] // 2)).permute(0, 2, 3, 1)
                if sym.shape == g.shape and torch.allclose(g, sym, atol=1e-4) and not torch.allclose(sym, expected,
                                                                                                     atol=1e-4):
                    raise CheckFailure(en=f"{what.en}: you padded k // 2 on every side (PyTorch's symmetric "
                                          f"padding). TensorFlow's SAME pads P = max((OH - 1)·s + k - H, 0) in total, "
                                          f"⌊P/2⌋ on top/left and the rest (the odd one) at the bottom/right.",
                                       zh=f"{what.zh}：你在每一边都填充了 k // 2（PyTorch 的对称填充）。"
                                          f"TensorFlow 的 SAME 总共填充 P = max((OH - 1)·s + k - H, 0)，"
                                          f"上方/左侧填 ⌊P/2⌋，其余的（多出的那一个）填在下方/右侧。")
        expect_close(got, expected, what=what, rtol=1e-4, atol=1e-4)


# -- 11.3 ---------------------------------------------------------------------------------------

@exercise("11.3", name="max_pool_nhwc", points=2, forbid=SCRATCH)
def _check_max_pool_nhwc(max_pool_nhwc):
    """y[n,i,j,c] = max_{u,v < p} x[n, i·s+u, j·s+v, c], VALID windows, stride defaulting to the pool size."""
    g = seeding.torch_generator(113)
    cases = [((1, 4, 4, 1), 2, None), ((2, 5, 5, 2), 2, None), ((1, 6, 6, 3), 3, 1), ((2, 7, 7, 1), 3, 2),
             ((1, 5, 6, 2), 2, 1), ((1, 13, 13, 2), 2, None)]
    for shape, pool, stride in cases:
        x = torch.randn(*shape, generator=g) - 1.0           # mostly negative: a max started at 0 is wrong
        arg = "" if stride is None else f", stride={stride}"
        call = f"max_pool_nhwc(x, pool_size={pool}{arg})"
        what = say(f"{call} with x of shape {shape}", f"{call}（x 的形状为 {shape}）")
        keep = x.clone()
        got = max_pool_nhwc(x.clone(), pool) if stride is None else max_pool_nhwc(x.clone(), pool, stride=stride)
        s = pool if stride is None else stride
        expected = F.max_pool2d(keep.permute(0, 3, 1, 2), pool, s).permute(0, 2, 3, 1)   # (N, OH, OW, C)
        gt = as_tensor(got)
        expect(gt is not None, en=f"{what.en}: expected a tensor, got {describe(got)}.",
               zh=f"{what.zh}：期望一个张量，得到 {describe(got, lang='zh')}。")
        n, oh, ow, c = expected.shape
        if tuple(gt.shape) == (n, c, oh, ow) and c != oh:
            raise CheckFailure(en=f"{what.en}: got shape {tuple(gt.shape)} = (N, C, OH, OW); return channels-last "
                                  f"(N, OH, OW, C) = {tuple(expected.shape)}.",
                               zh=f"{what.zh}：得到形状 {tuple(gt.shape)} = (N, C, OH, OW)；应返回通道在后的 "
                                  f"(N, OH, OW, C) = {tuple(expected.shape)}。")
        if stride is None:
            one = F.max_pool2d(keep.permute(0, 3, 1, 2), pool, 1).permute(0, 2, 3, 1)
            if tuple(gt.shape) == tuple(one.shape) != tuple(expected.shape):
                raise CheckFailure(en=f"{what.en}: got shape {tuple(gt.shape)}, as with stride 1; the stride defaults "
                                      f"to the pool size (Keras' MaxPooling2D(strides=None)), giving "
                                      f"{tuple(expected.shape)}.",
                                   zh=f"{what.zh}：得到形状 {tuple(gt.shape)}，和步幅为 1 时一样；步幅默认等于池化窗口"
                                      f"大小（Keras 的 MaxPooling2D(strides=None)），结果应为 "
                                      f"{tuple(expected.shape)}。")
        if tuple(gt.shape) == tuple(expected.shape) and torch.allclose(gt.float(), expected.clamp(min=0)) \
                and not torch.allclose(expected, expected.clamp(min=0)):
            raise CheckFailure(en=f"{what.en}: every negative maximum came out as 0. Start the maximum from the first "
                                  f"element of the window (or -inf), not from 0: inputs can be negative.",
                               zh=f"{what.zh}：每个为负数的最大值都变成了 0。求最大值时应从窗口的第一个元素"
                                  f"（或 -inf）开始，而不是从 0 开始：输入可能是负数。")
        expect_close(got, expected, what=what)


# -- 11.4 ---------------------------------------------------------------------------------------

def _act(layer):
    return getattr(getattr(layer, "activation", None), "__name__", None)


@exercise("11.4", name="build_cnn", points=2, forbid=Forbid(
    methods=("compile",), why=say("Exercise 11.4 builds the model and does not compile it (the caller does).",
                                  "练习 11.4 只构建模型，不编译它（由调用者编译）。")))
def _check_build_cnn(build_cnn):
    """seed002's CNN: Reshape -> Conv2D(f1, 3) -> MaxPool -> Conv2D(f2, 3) -> MaxPool -> Flatten -> Dense(h)
    -> Dense(C)."""
    keras_sequential = ("course.keras.sequential.Sequential",)
    for f1, f2, hidden, classes in ((32, 64, 64, 10), (8, 16, 32, 5)):
        what = f"build_cnn(filters1={f1}, filters2={f2}, hidden={hidden}, num_classes={classes})"
        model = build_cnn(filters1=f1, filters2=f2, hidden=hidden, num_classes=classes)
        if is_a(model, "torch.nn.modules.module.Module") and not is_a(model, *keras_sequential):
            raise CheckFailure(en=f"{what} returned a torch module; this exercise wants Keras': "
                                  f"models.Sequential([...]) with layers from course.tf.keras.layers.",
                               zh=f"{what} 返回了 torch 模块；这道练习要的是 Keras 的 models.Sequential([...])，"
                                  f"其中的层来自 course.tf.keras.layers。")
        expect(is_a(model, *keras_sequential), en=f"{what}: expected a models.Sequential, got {describe(model)}.",
               zh=f"{what}：期望 models.Sequential，得到 `{describe(model, lang='zh')}`。")
        kinds = [remote_type(layer) for layer in model.layers]
        expected_kinds = ["Reshape", "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense"]
        expect_equal(kinds, expected_kinds,
                     what=say(f"{what}: the layer types, in order", f"{what}：各层的类型（按顺序）"))
        expect(model.built, en=f"{what}: the model is not built; give the first layer its input shape: "
                               f"layers.Reshape(target_shape=(28, 28, 1), input_shape=(28, 28)).",
               zh=f"{what}：模型还没有构建；请给第一层指定输入形状："
                  f"layers.Reshape(target_shape=(28, 28, 1), input_shape=(28, 28))。")
        reshape, conv1, pool1, conv2, pool2, _, dense1, dense2 = model.layers
        for name, conv, filters in ((say("first", "第一个"), conv1, f1), (say("second", "第二个"), conv2, f2)):
            expect_equal(conv.filters, filters, what=say(f"{what}: filters of the {name.en} Conv2D",
                                                         f"{what}：{name.zh} Conv2D 的滤波器个数（filters）"))
            expect_equal(tuple(conv.kernel_size), (3, 3), what=say(f"{what}: kernel_size of the {name.en} Conv2D",
                                                                   f"{what}：{name.zh} Conv2D 的 kernel_size"))
            expect_equal(_act(conv), "relu", what=say(f"{what}: activation of the {name.en} Conv2D",
                                                      f"{what}：{name.zh} Conv2D 的激活函数"))
            if conv.padding != "valid":
                raise CheckFailure(en=f"{what}: the {name.en} Conv2D uses padding={conv.padding!r}; seed002 keeps "
                                      f"Keras' default 'valid' (28 -> 26 -> 13 -> 11 -> 5).",
                                   zh=f"{what}：{name.zh} Conv2D 使用了 padding={conv.padding!r}；seed002 保留 Keras "
                                      f"的默认值 'valid'（28 -> 26 -> 13 -> 11 -> 5）。")
        for name, pool in ((say("first", "第一个"), pool1), (say("second", "第二个"), pool2)):
            expect_equal(tuple(pool.pool_size), (2, 2), what=say(f"{what}: pool_size of the {name.en} MaxPooling2D",
                                                                 f"{what}：{name.zh} MaxPooling2D 的 pool_size"))
        expect_equal(dense1.units, hidden, what=say(f"{what}: units of the hidden Dense layer",
                                                    f"{what}：隐藏 Dense 层的单元数"))
        expect_equal(_act(dense1), "relu", what=say(f"{what}: activation of the hidden Dense layer",
                                                    f"{what}：隐藏 Dense 层的激活函数"))
        expect_equal(dense2.units, classes, what=say(f"{what}: units of the output Dense layer",
                                                     f"{what}：输出 Dense 层的单元数"))
        expect_equal(_act(dense2), "softmax", what=say(f"{what}: activation of the output layer",
                                                       f"{what}：输出层的激活函数"))
        # parameters: k_h·k_w·c_in·f + f per conv, n_in·n_out + n_out per dense; 28 -> 26 -> 13 -> 11 -> 5
        counts = [3 * 3 * 1 * f1 + f1, 3 * 3 * f1 * f2 + f2, 5 * 5 * f2 * hidden + hidden, hidden * classes + classes]
        got_counts = [conv1.count_params(), conv2.count_params(), dense1.count_params(), dense2.count_params()]
        expect_equal(got_counts, counts, what=say(f"{what}: parameters of Conv2D, Conv2D, Dense, Dense",
                                                  f"{what}：Conv2D、Conv2D、Dense、Dense 各层的参数个数"))
        expect_equal(model.count_params(), sum(counts),
                     what=say(f"{what}: model.count_params()", f"{what}：model.count_params()"))
        x = seeding.numpy_rng(0).random((3, 28, 28)).astype(np.float32)
        p = as_tensor(model(x))
        expect(p is not None and tuple(p.shape) == (3, classes),
               en=f"{what}: model(x) for x of shape (3, 28, 28) should have shape (3, {classes}); got {describe(p)}.",
               zh=f"{what}：对形状为 (3, 28, 28) 的 x，model(x) 的形状应为 (3, {classes})；"
                  f"得到 {describe(p, lang='zh')}。")
        expect_close(p.sum(dim=1), torch.ones(3), what=say(f"{what}: row sums of model(x) (softmax probabilities)",
                                                           f"{what}：model(x) 每一行的和（softmax 概率）"),
                     rtol=1e-5, atol=1e-5)


# -- 11.5 ---------------------------------------------------------------------------------------

def _torch_step(weights, x, y, lr):
    """Loss and SGD-updated weights of Dense(relu) -> Dense(softmax), Keras' clipped cross-entropy, by autograd."""
    w = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in weights]
    h = torch.relu(torch.from_numpy(x).double() @ w[0] + w[1])                 # (N, H)
    p = torch.softmax(h @ w[2] + w[3], dim=1)                                  # (N, C)
    p_y = p[torch.arange(len(y)), torch.from_numpy(y).long()].clamp(1e-7, 1 - 1e-7)
    loss = -torch.log(p_y).mean()
    loss.backward()
    return float(loss.detach()), [(v - lr * v.grad).detach().numpy() for v in w]


@exercise("11.5", name="train_step", points=2)
def _check_train_step(train_step):
    """One step: loss under GradientTape with training=True, gradients, optimizer.apply_gradients."""
    rng = seeding.numpy_rng(115)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    y = np.array([0, 2, 1, 1, 0, 2], dtype=np.int64)
    # The model, optimizer and loss live on the learner's side; weights and losses come back as data.
    model = current().make(Fixture("keras_dense_model", 0, 0.1))
    weights = [np.asarray(w) for w in model.get_weights()]
    optimizer = current().make(Fixture("keras_sgd_optimizer", 0.5))
    loss_fn = current().make(Fixture("keras_sparse_cce"))
    call = "train_step(model, optimizer, loss_fn, x, y)"
    what = say(f"{call} on Dense(5, relu) -> Dense(3, softmax), SGD(0.5)",
               f"{call}，模型为 Dense(5, relu) -> Dense(3, softmax)，优化器为 SGD(0.5)")
    now = [w.astype(np.float64) for w in weights]
    for step in (1, 2):
        ref_loss, ref_weights = _torch_step(now, x, y, 0.5)
        got_loss = train_step(model, optimizer, loss_fn, x, y)
        got = [np.asarray(w) for w in model.get_weights()]
        if step == 1 and all(np.allclose(g, c) for g, c in zip(got, now)):
            raise CheckFailure(en=f"{what.en}: the weights did not change; apply the gradients: "
                                  f"optimizer.apply_gradients(zip(grads, model.trainable_variables)).",
                               zh=f"{what.zh}：权重没有改变；请应用梯度："
                                  f"optimizer.apply_gradients(zip(grads, model.trainable_variables))。")
        lv = as_tensor(got_loss)
        expect(lv is not None and lv.numel() == 1,
               en=f"{what.en}, step {step}: return the loss (a scalar tensor or a number); got {describe(got_loss)}.",
               zh=f"{what.zh}，第 {step} 步：应返回损失（一个标量张量或一个数）"
                  f"；得到 {describe(got_loss, lang='zh')}。")
        expect_close(float(lv.reshape(())), ref_loss,
                     what=what + say(f", step {step}: the returned loss (before the update)",
                                     f"，第 {step} 步：返回的损失（更新之前的）"),
                     rtol=1e-4, atol=1e-6, check_dtype=False)
        names = (say("kernel 1", "第 1 层的核"), say("bias 1", "第 1 层的偏置"), say("kernel 2", "第 2 层的核"),
                 say("bias 2", "第 2 层的偏置"))
        for name, g, r in zip(names, got, ref_weights):
            expect_close(g, r, what=say(f"{what.en}: {name.en} after {step} step(s)",
                                        f"{what.zh}：{step} 步之后{name.zh}"),
                         rtol=1e-4, atol=1e-5, check_dtype=False)
        now = ref_weights

    # Dropout must be active while training: fit passes training=True, a bare model(x) does not.
    model = current().make(Fixture("keras_dropout_model", 1))
    inference_loss = float(as_tensor(loss_fn(y, model(x))).reshape(()))
    got_loss = train_step(model, Fixture("keras_sgd_optimizer", 0.0), loss_fn, x, y)
    if abs(float(as_tensor(got_loss).reshape(())) - inference_loss) < 1e-6:
        raise CheckFailure(en="train_step on a model with Dropout(0.5) returned the loss of the model in inference "
                              "mode: call model(x, training=True) inside the tape, so that Dropout drops units while "
                              "training (seed000's model(x) never does).",
                           zh="train_step 作用于含 Dropout(0.5) 的模型时，返回的是推理模式下的损失：请在梯度带内"
                              "调用 model(x, training=True)，这样训练时 Dropout 才会丢弃单元"
                              "（seed000 中的 model(x) 从不丢弃）。")


# -- 11.6 ---------------------------------------------------------------------------------------

def _conv_grads(x, kernel, bias, dout, stride, padding):
    """(dx, dkernel, dbias) of Σ conv(x, kernel) + bias ⊙ dout, by torch autograd through F.conv2d."""
    leaves = [t.detach().double().requires_grad_(True) for t in (x, kernel, bias)]
    out = _conv_reference(*leaves, stride, padding)                              # (N, OH, OW, F)
    grads = torch.autograd.grad((out * dout.double()).sum(), leaves)
    return [g.to(x.dtype) for g in grads]


def _conv_backward_cases():
    g = seeding.torch_generator(116)
    r = lambda *s: torch.randn(*s, generator=g)                            # noqa: E731
    return [
        (r(2, 5, 5, 1), r(3, 3, 1, 2), 1, "VALID"),
        (r(2, 6, 7, 3), r(3, 2, 3, 4), 1, "VALID"),
        (r(2, 6, 6, 2), r(3, 3, 2, 3), 1, "SAME"),
        (r(1, 7, 7, 2), r(2, 2, 2, 3), 2, "VALID"),       # the last row and column are in no window: dx = 0 there
        (r(2, 6, 5, 2), r(3, 3, 2, 2), 2, "SAME"),        # the odd padding pixel at the bottom/right
        (r(1, 8, 6, 3), r(4, 3, 3, 2), 3, "SAME"),
    ]


_NO_AUTOGRAD = Forbid(
    names=_NO_CONV.names + ("torch.autograd", "torch.func", "course.gradcheck", "course.tf.GradientTape",
                            "course.tape"),
    methods=("backward",),
    why=say("Exercise 11.6 computes the gradients itself: autograd (.backward(), torch.autograd.grad, "
            "GradientTape), convolution kernels and the course's own conv2d_backward are not allowed.",
            "练习 11.6 要自己计算梯度：不能使用自动微分（.backward()、torch.autograd.grad、GradientTape）、"
            "卷积函数和课程自带的 conv2d_backward。"))


@exercise("11.6", name="conv2d_backward_nhwc", points=3, forbid=_NO_AUTOGRAD + SCRATCH)
def _check_conv2d_backward_nhwc(conv2d_backward_nhwc):
    """dx[n,i·s+u,j·s+v,c] += Σ_f dy[n,i,j,f]·k[u,v,c,f] (cropped), dk[u,v,c,f] = Σ dy·x_pad, db[f] = Σ dy."""
    g = seeding.torch_generator(1160)
    for x, kernel, stride, padding in _conv_backward_cases():
        n, h, w, c = x.shape
        f = kernel.shape[3]
        bias = torch.randn(f, generator=g)
        oh, ow = len(_windows(h, kernel.shape[0], stride, padding)), len(_windows(w, kernel.shape[1], stride, padding))
        dout = torch.randn(n, oh, ow, f, generator=g)
        call = f"conv2d_backward_nhwc(dout, x, kernel, stride={stride}, padding={padding!r})"
        shapes = f"x {tuple(x.shape)}, kernel {tuple(kernel.shape)}, dout {tuple(dout.shape)}"
        what = say(f"{call} with {shapes}", f"{call}，其中 {shapes}")
        dx_ref, dk_ref, db_ref = _conv_grads(x, kernel, bias, dout, stride, padding)
        got = conv2d_backward_nhwc(dout.clone(), x.clone(), kernel.clone(), stride=stride, padding=padding)
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            raise CheckFailure(en=f"{what.en}: expected a tuple (dx, dkernel, dbias), got {describe(got)}.",
                               zh=f"{what.zh}：期望一个元组 (dx, dkernel, dbias)，得到 {describe(got, lang='zh')}。")
        dx, dk, db = (as_tensor(t) for t in got)
        if dx is not None and padding == "SAME" and tuple(dx.shape) != tuple(x.shape):
            pads = [sum(_tf_same_pads(size, k, stride)) for size, k in ((h, kernel.shape[0]), (w, kernel.shape[1]))]
            if tuple(dx.shape) == (n, h + pads[0], w + pads[1], c):
                raise CheckFailure(en=f"{what.en}: dx has the padded shape {tuple(dx.shape)}; the padding is not part "
                                      f"of x: crop it away (drop the top/left and bottom/right rows and columns that "
                                      f"F.pad added) to get {tuple(x.shape)}.",
                                   zh=f"{what.zh}：dx 的形状是填充后的 {tuple(dx.shape)}；填充不属于 x：请把它裁掉"
                                      f"（去掉 F.pad 在上/左、下/右添加的行和列），得到 {tuple(x.shape)}。")
        if dx is not None and tuple(dx.shape) == (n, c, h, w) and (c, h) != (h, w):
            raise CheckFailure(en=f"{what.en}: dx has shape {tuple(dx.shape)} = (N, C, H, W), PyTorch's layout; return "
                                  f"it channels-last, like x: {tuple(x.shape)}.",
                               zh=f"{what.zh}：dx 的形状是 {tuple(dx.shape)} = (N, C, H, W)，这是 PyTorch 的布局；"
                                  f"应像 x 一样通道在后：{tuple(x.shape)}。")
        if db is not None and tuple(db.shape) != (f,) and db.numel() == oh * ow * f:
            raise CheckFailure(en=f"{what.en}: dbias has shape {tuple(db.shape)}; every output position used b[f], so "
                                  f"sum dout over the batch AND the positions: dout.sum(dim=(0, 1, 2)), shape ({f},).",
                               zh=f"{what.zh}：dbias 的形状是 {tuple(db.shape)}；"
                                  "每个输出位置都用到了 b[f]，所以要对批量"
                                  f"和所有位置求和：dout.sum(dim=(0, 1, 2))，形状为 ({f},)。")
        if dk is not None and tuple(dk.shape) == (n,) + tuple(kernel.shape) and n > 1:
            raise CheckFailure(en=f"{what.en}: dkernel has shape {tuple(dk.shape)}, one per image; the kernel is "
                                  f"shared by the whole batch, so sum over the images too: {tuple(kernel.shape)}.",
                               zh=f"{what.zh}：dkernel 的形状是 {tuple(dk.shape)}，每张图像一个；整个批量共享同一个"
                                  f"卷积核，所以还要对图像求和：{tuple(kernel.shape)}。")
        if dx is not None and tuple(dx.shape) == tuple(x.shape) and dx.dtype == dx_ref.dtype:
            dx_flip = _conv_grads(x, kernel.flip(0, 1), bias, dout, stride, padding)[0]
            if torch.allclose(dx, dx_flip, atol=1e-4) and not torch.allclose(dx_flip, dx_ref, atol=1e-4):
                raise CheckFailure(en=f"{what.en}: dx is what a flipped kernel would give. Each output y[i, j] used "
                                      f"x[i·s+u, j·s+v] with weight k[u, v]: send dout[i, j]·k[u, v] back to exactly "
                                      f"that pixel (scatter-add over the windows), or correlate the padded dout with "
                                      f"the kernel rotated by 180°, not with the kernel itself.",
                                   zh=f"{what.zh}：dx 相当于用翻转后的卷积核得到的结果。"
                                      "每个输出 y[i, j] 以权重 k[u, v] "
                                      f"用到了 x[i·s+u, j·s+v]：把 dout[i, j]·k[u, v] 送回正好这个像素（对各个窗口做"
                                      f"累加散射），"
                                      "或者把填充后的 dout 与旋转 180° 的卷积核做互相关，而不是与卷积核本身。")
        if dx is not None and tuple(dx.shape) == tuple(x.shape) and stride == 1 and dk is not None:
            if torch.allclose(dk, dk_ref.flip(0, 1), atol=1e-4) and not torch.allclose(dk_ref, dk_ref.flip(0, 1),
                                                                                     atol=1e-4):
                raise CheckFailure(en=f"{what.en}: dkernel is flipped: dk[u, v, c, f] = Σ_(n,i,j) x_pad[n, i·s+u, "
                                      f"j·s+v, c]·dout[n, i, j, f], with u, v counted from the top-left of the window.",
                                   zh=f"{what.zh}：dkernel 被翻转了：dk[u, v, c, f] = Σ_(n,i,j) x_pad[n, i·s+u, "
                                      f"j·s+v, c]·dout[n, i, j, f]，u、v 从窗口左上角数起。")
        for name, got_t, ref in ((say("dx", "dx"), got[0], dx_ref), (say("dkernel", "dkernel"), got[1], dk_ref),
                                 (say("dbias", "dbias"), got[2], db_ref)):
            expect_close(got_t, ref, what=say(f"{what.en}: {name.en}", f"{what.zh}：{name.zh}"), rtol=1e-4, atol=1e-4)


# -- Check your understanding: questions (keys in the instructor's checks file) and a planted bug ---
question("11.7", name="answer_11_7", points=1, kind="number")
question("11.8", name="answer_11_8", points=1, kind="choice", choices="abcd")
outcome_task("11.9", name="train_channels_first", points=3, order="given",
             practice={"target": 0.82, "seconds": 6, "n_train": 2000, "n_test": 1000})
