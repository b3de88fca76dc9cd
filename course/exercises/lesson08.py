"""Checks for lesson 08, initialisation: Keras fans, glorot_uniform, he_normal, Keras-style init of torch layers.

Samplers are checked statistically on large draws (bounds, standard deviation, mean, shape of the
distribution) with tolerances far outside sampling noise, against Keras' formulas and torch's own
fan computation (`torch.nn.init._calculate_fan_in_and_fan_out` on the same kernel in torch's layout).
"""
import math

import torch

from course.exercises.expect import CheckFailure, expect_equal, say
from course.exercises.fixtures import Fixture
from course.exercises.outcome import outcome_task
from course.exercises.questions import question
from course.exercises.registry import exercise
from course.exercises.remote import RemoteObject, current
from course.exercises.seeding import numpy_rng

__all__ = []

TRUNCATED_NORMAL_STD = 0.87962566103423978      # std of N(0, 1) cut at ±2

_SHAPES = [(784, 128), (128, 10), (300, 300), (3, 3, 1, 32), (5, 5, 32, 64), (3, 3, 64, 64), (7, 7, 3, 16),
           (2, 3, 4, 5, 6), (100,)]


def _torch_fans(shape):
    """(fan_in, fan_out) by torch's rule, after moving a Keras kernel into torch's layout."""
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        w = torch.empty(shape[1], shape[0])                             # Linear weight (out, in)
    else:
        w = torch.empty(shape[-1], shape[-2], *shape[:-2])              # Conv weight (out, in, *kernel)
    return torch.nn.init._calculate_fan_in_and_fan_out(w)


# -- 8.1 -------------------------------------------------------------------------------------

@exercise("8.1", name="compute_fans", points=1)
def _check_compute_fans(compute_fans):
    """Keras' fans: (in, out) for dense kernels, r·in and r·out with r = h·w for conv kernels."""
    for shape in _SHAPES:
        got = compute_fans(shape)
        expected = tuple(int(n) for n in _torch_fans(shape))
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise CheckFailure(en=f"compute_fans({shape}): expected a pair (fan_in, fan_out), got {got!r}.",
                               zh=f"compute_fans({shape})：期望一对数 (fan_in, fan_out)，得到 {got!r}。")
        try:
            got = (int(got[0]), int(got[1]))
        except (TypeError, ValueError):
            raise CheckFailure(en=f"compute_fans({shape}): expected two integers, got {got!r}.",
                               zh=f"compute_fans({shape})：期望两个整数，得到 {got!r}。") from None
        if got != expected:
            hint = say("", "")
            if got == expected[::-1]:
                hint = say(" (fan_in and fan_out swapped: a Keras kernel is (..., in, out))",
                           "（fan_in 和 fan_out 颠倒了：Keras 的核是 (..., in, out)）")
            elif len(shape) > 2 and got == (shape[-2], shape[-1]):
                hint = say(" (the receptive field is missing: each output of a conv layer sees h·w·in inputs, "
                           "so multiply by h·w)",
                           "（漏掉了感受野：卷积层的每个输出看到 h·w·in 个输入，所以要乘以 h·w）")
            elif len(shape) > 2 and got == (shape[1] * shape[0], shape[0] * shape[1]):
                hint = say(" (looks like torch's layout (out, in, h, w); Keras kernels are (h, w, in, out))",
                           "（看起来用的是 torch 的布局 (out, in, h, w)；Keras 的核是 (h, w, in, out)）")
            expect_equal(got, expected, what=f"compute_fans({shape})" + hint)


# -- samplers --------------------------------------------------------------------------------

def _draw(fn, shape, seed, name):
    call = f"{name}({shape})"
    try:
        x = fn(shape, generator=Fixture("torch_generator", seed))
    except TypeError as exc:
        if "generator" in str(exc):
            raise CheckFailure(en=f"{call}: your function does not accept the keyword argument generator=; "
                                  f"keep the signature {name}(shape, generator=None).",
                               zh=f"{call}：你的函数不接受关键字参数 generator=；"
                                  f"请保持函数签名 {name}(shape, generator=None)。") from None
        raise
    if not isinstance(x, torch.Tensor):
        raise CheckFailure(en=f"{call}: expected a torch.Tensor, got {type(x).__name__}.",
                           zh=f"{call}：期望 torch.Tensor，得到 {type(x).__name__}。")
    if tuple(x.shape) != tuple(shape):
        raise CheckFailure(en=f"{call}: shape: expected {tuple(shape)}, got {tuple(x.shape)}.",
                           zh=f"{call}：形状：期望 {tuple(shape)}，得到 {tuple(x.shape)}。")
    if x.dtype != torch.float32:
        raise CheckFailure(en=f"{call}: dtype: expected float32 (Keras' floatx), got {x.dtype}.",
                           zh=f"{call}：数据类型：期望 float32（Keras 的 floatx），得到 {x.dtype}。")
    if not torch.isfinite(x).all():
        raise CheckFailure(en=f"{call}: the result contains inf or nan.",
                           zh=f"{call}：结果中含有 inf 或 nan。")
    return x.detach().double().reshape(-1)


def _reproducible(fn, shape, name):
    seed = int(numpy_rng(80).integers(2**31))
    a = fn(shape, generator=Fixture("torch_generator", seed))
    b = fn(shape, generator=Fixture("torch_generator", seed))
    c = fn(shape, generator=Fixture("torch_generator", seed + 1))
    if not all(isinstance(t, torch.Tensor) for t in (a, b, c)):
        raise CheckFailure(en=f"{name}({shape}, generator=g): expected torch tensors.",
                           zh=f"{name}({shape}, generator=g)：期望得到 torch 张量。")
    if not torch.equal(a, b):
        raise CheckFailure(en=f"{name}({shape}, generator=g): two generators with the same seed gave different "
                              f"values; pass generator=generator to the torch sampling call "
                              f"(e.g. tensor.uniform_(a, b, generator=generator)).",
                           zh=f"{name}({shape}, generator=g)：两个种子相同的生成器给出了不同的值；"
                              f"请把 generator=generator 传给 torch 的采样调用"
                              f"（例如 tensor.uniform_(a, b, generator=generator)）。")
    if torch.equal(a, c):
        raise CheckFailure(en=f"{name}({shape}): different seeds gave the same values; the weights must be random.",
                           zh=f"{name}({shape})：不同的种子给出了相同的值；权重必须是随机的。")


def _mean_ok(x, sigma, call):
    n = x.numel()
    if abs(x.mean().item()) > 6 * sigma / math.sqrt(n):
        raise CheckFailure(en=f"{call}: the mean is {x.mean().item():.4g}; expected about 0 (weights are centred).",
                           zh=f"{call}：均值为 {x.mean().item():.4g}；期望约为 0（权重以 0 为中心）。")


# -- 8.2 -------------------------------------------------------------------------------------

@exercise("8.2", name="glorot_uniform", points=2)
def _check_glorot_uniform(glorot_uniform):
    """U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)), Keras fans."""
    for k, shape in enumerate([(784, 128), (5, 5, 32, 64), (300, 300), (3, 3, 64, 64)]):
        fan_in, fan_out = _torch_fans(shape)
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        call = f"glorot_uniform({shape})"
        x = _draw(glorot_uniform, shape, int(numpy_rng(82).integers(2**31)) + k, "glorot_uniform")
        top = x.abs().max().item()
        std = x.std().item()
        candidates = [      # (what a wrong limit is, its value)
            (say("sqrt(6 / fan_in), he_uniform's limit (Glorot uses both fans)",
                 "sqrt(6 / fan_in)，即 he_uniform 的界限（Glorot 同时用到扇入和扇出）"), math.sqrt(6.0 / fan_in)),
            (say("1 / sqrt(fan_in), torch's nn.Linear default bound",
                 "1 / sqrt(fan_in)，即 torch 的 nn.Linear 默认的界限"), 1.0 / math.sqrt(fan_in)),
            (say("sqrt(2 / (fan_in + fan_out)), the standard deviation, not the limit",
                 "sqrt(2 / (fan_in + fan_out))，这是标准差，不是界限"), math.sqrt(2.0 / (fan_in + fan_out))),
            (say("sqrt(6 / (shape[-2] + shape[-1])): conv fans need the receptive field h·w",
                 "sqrt(6 / (shape[-2] + shape[-1]))：卷积核的扇入和扇出要乘上感受野 h·w"),
             math.sqrt(6.0 / (shape[-2] + shape[-1]))),
        ]
        if top > limit * (1 + 1e-6):
            for why, value in candidates:
                if abs(top - value) < 0.02 * value and abs(value - limit) > 0.05 * limit:
                    raise CheckFailure(en=f"{call}: your largest |value| is {top:.4g}, about {why.en}; "
                                          f"expected limit = sqrt(6 / (fan_in + fan_out)) = {limit:.4g}.",
                                       zh=f"{call}：你的结果中最大的 |value| 是 {top:.4g}，约等于 {why.zh}；"
                                          f"期望界限 limit = sqrt(6 / (fan_in + fan_out)) = {limit:.4g}。")
            raise CheckFailure(en=f"{call}: a value of size {top:.4g} lies outside [-limit, limit] with "
                                  f"limit = sqrt(6 / (fan_in + fan_out)) = {limit:.4g} (fan_in={fan_in}, "
                                  f"fan_out={fan_out}).",
                               zh=f"{call}：有一个大小为 {top:.4g} 的值落在 [-limit, limit] 之外，其中 "
                                  f"limit = sqrt(6 / (fan_in + fan_out)) = {limit:.4g}（fan_in={fan_in}，"
                                  f"fan_out={fan_out}）。")
        if top < 0.98 * limit:
            for why, value in candidates:
                if abs(top - value) < 0.02 * value and abs(value - limit) > 0.05 * limit:
                    raise CheckFailure(en=f"{call}: your largest |value| is {top:.4g}, about {why.en}; "
                                          f"expected limit = sqrt(6 / (fan_in + fan_out)) = {limit:.4g}.",
                                       zh=f"{call}：你的结果中最大的 |value| 是 {top:.4g}，约等于 {why.zh}；"
                                          f"期望界限 limit = sqrt(6 / (fan_in + fan_out)) = {limit:.4g}。")
            raise CheckFailure(en=f"{call}: the values stay within ±{top:.4g}; with {x.numel()} draws from "
                                  f"U(-limit, limit) some should come close to limit = {limit:.4g}.",
                               zh=f"{call}：所有值都在 ±{top:.4g} 之内；从 U(-limit, limit) 中抽取 {x.numel()} "
                                  f"个值，应当有一些接近界限 limit = {limit:.4g}。")
        expected_std = limit / math.sqrt(3.0)
        if abs(std / expected_std - 1) > 0.03:
            raise CheckFailure(en=f"{call}: standard deviation {std:.4g}, expected limit/sqrt(3) = {expected_std:.4g} "
                                  f"for a uniform distribution.",
                               zh=f"{call}：标准差为 {std:.4g}；均匀分布的标准差应为 limit/sqrt(3) = "
                                  f"{expected_std:.4g}。")
        _mean_ok(x, expected_std, call)
        inner = (x.abs() < limit / 2).double().mean().item()          # 0.5 for a uniform, 0.61 for a normal
        if abs(inner - 0.5) > 0.03:
            raise CheckFailure(en=f"{call}: {inner:.1%} of the values lie within ±limit/2; a uniform distribution "
                                  f"puts 50% there. Draw from U(-limit, limit), e.g. with tensor.uniform_.",
                               zh=f"{call}：有 {inner:.1%} 的值落在 ±limit/2 之内；均匀分布在这里应有 50%。"
                                  f"请从 U(-limit, limit) 中抽样，例如用 tensor.uniform_。")
    _reproducible(glorot_uniform, (64, 32), "glorot_uniform")


# -- 8.3 -------------------------------------------------------------------------------------

@exercise("8.3", name="he_normal", points=2)
def _check_he_normal(he_normal):
    """Keras' he_normal: N(0, σ²) truncated at ±2σ, σ = sqrt(2 / fan_in) / 0.8796, std sqrt(2 / fan_in)."""
    for k, shape in enumerate([(784, 128), (5, 5, 32, 64), (300, 300), (3, 3, 64, 64)]):
        fan_in, _ = _torch_fans(shape)
        target = math.sqrt(2.0 / fan_in)                     # the std of the result
        sigma = target / TRUNCATED_NORMAL_STD                # the std before truncation
        call = f"he_normal({shape})"
        x = _draw(he_normal, shape, int(numpy_rng(83).integers(2**31)) + k, "he_normal")
        top = x.abs().max().item()
        std = x.std().item()
        if top > 2 * sigma * (1 + 1e-5):
            if abs(std / target - 1) < 0.03:
                raise CheckFailure(en=f"{call}: values reach {top:.4g}, beyond the cut at 2σ = {2 * sigma:.4g}. "
                                      f"Keras' he_normal is a *truncated* normal (as tf.keras uses); "
                                      f"torch.nn.init.kaiming_normal_ is not. Use torch.nn.init.trunc_normal_.",
                                   zh=f"{call}：值达到了 {top:.4g}，超出了 2σ = {2 * sigma:.4g} 处的截断。"
                                      f"Keras 的 he_normal 是*截断*正态分布（tf.keras 也是这样）；"
                                      f"torch.nn.init.kaiming_normal_ 不截断。请使用 torch.nn.init.trunc_normal_。")
            raise CheckFailure(en=f"{call}: values reach {top:.4g}, beyond the cut at 2σ = {2 * sigma:.4g} "
                                  f"(σ = sqrt(2 / fan_in) / 0.8796 with fan_in = {fan_in}).",
                               zh=f"{call}：值达到了 {top:.4g}，超出了 2σ = {2 * sigma:.4g} 处的截断"
                                  f"（σ = sqrt(2 / fan_in) / 0.8796，其中 fan_in = {fan_in}）。")
        if abs(std / target - 1) > 0.03:
            hint = say("", "")
            if abs(std / (target * TRUNCATED_NORMAL_STD) - 1) < 0.03:
                hint = say(" It is 0.88 times too small: truncating at ±2σ removes spread, so Keras draws with "
                           "σ = sqrt(2 / fan_in) / 0.87962566103423978.",
                           "它只有应有值的 0.88 倍：在 ±2σ 处截断会使分布变窄，所以 Keras 抽样时用 "
                           "σ = sqrt(2 / fan_in) / 0.87962566103423978。")
            elif abs(std / math.sqrt(2.0 / _torch_fans(shape)[1]) - 1) < 0.03 and fan_in != _torch_fans(shape)[1]:
                hint = say(" That matches fan_out; He initialisation divides by fan_in.",
                           "这与 fan_out 相符；He 初始化除以的是 fan_in。")
            raise CheckFailure(en=f"{call}: standard deviation {std:.4g}, expected sqrt(2 / fan_in) = {target:.4g} "
                                  f"(fan_in = {fan_in}).{hint.en}",
                               zh=f"{call}：标准差为 {std:.4g}，期望 sqrt(2 / fan_in) = {target:.4g}"
                                  f"（fan_in = {fan_in}）。{hint.zh}")
        if top < 1.9 * sigma:
            raise CheckFailure(en=f"{call}: all values lie within ±{top:.4g}; a normal truncated at ±2σ = "
                                  f"{2 * sigma:.4g} should come close to its cut with {x.numel()} draws.",
                               zh=f"{call}：所有值都在 ±{top:.4g} 之内；在 ±2σ = {2 * sigma:.4g} 处截断的正态分布，"
                                  f"抽取 {x.numel()} 个值时应当有一些接近截断处。")
        _mean_ok(x, target, call)
        inner = (x.abs() < sigma).double().mean().item()     # P(|z| < 1 | |z| < 2) = 0.7160
        if abs(inner - 0.7160) > 0.03:
            raise CheckFailure(en=f"{call}: {inner:.1%} of the values lie within ±σ; a normal truncated at ±2σ "
                                  f"puts 71.6% there. Draw from a (truncated) normal distribution.",
                               zh=f"{call}：有 {inner:.1%} 的值落在 ±σ 之内；在 ±2σ 处截断的正态分布在这里应有 "
                                  f"71.6%。请从（截断）正态分布中抽样。")
    _reproducible(he_normal, (64, 32), "he_normal")


# -- 8.4 -------------------------------------------------------------------------------------

def _counting_initializer(shape, dtype=torch.float32):
    return Fixture("counting_initializer").local()(shape, dtype)


@exercise("8.4", name="keras_init_", points=2)
def _check_keras_init(keras_init_):
    """Initialise every nn.Linear / nn.Conv2d of a model the Keras way, in place: the kernel is drawn
    in Keras' layout by `kernel_initializer` and moved into torch's; biases become zeros."""
    # The model stays on the learner's side; its layers' weights come back as arrays.
    model = current().make(Fixture("torch_conv_net"))
    convs = [m for m in model.modules() if isinstance(m, RemoteObject) and m.remote_isinstance(
        "torch.nn.modules.conv.Conv2d", "torch.nn.modules.linear.Linear")]
    before = [layer.weight.detach() for layer in convs]
    result = keras_init_(model, Fixture("counting_initializer"))
    if result is not None and not (isinstance(result, RemoteObject) and result._id == model._id):
        raise CheckFailure(en="keras_init_(model, kernel_initializer): initialise the model in place and return "
                              f"nothing (or the model itself); got {type(result).__name__}.",
                           zh="keras_init_(model, kernel_initializer)：应就地初始化模型，不返回任何值"
                              f"（或者返回模型本身）；得到 {type(result).__name__}。")
    for i, layer in enumerate(convs):
        weight = layer.weight
        w = weight.detach() if isinstance(weight, torch.Tensor) else weight
        if not isinstance(w, torch.Tensor):
            raise CheckFailure(en=f"layer {i}: the weight should stay a tensor; got {type(w).__name__}.",
                               zh=f"第 {i} 层：权重应当仍是张量；得到 {type(w).__name__}。")
        if layer.remote_isinstance("torch.nn.modules.linear.Linear"):
            keras_shape = (w.shape[1], w.shape[0])                          # (in, out)
            expected = _counting_initializer(keras_shape).T                  # (out, in)
            layout = say("a Linear weight is (out, in), the Keras kernel (in, out): transpose it",
                         "Linear 的权重是 (out, in)，Keras 的核是 (in, out)：需要转置")
        else:
            keras_shape = (w.shape[2], w.shape[3], w.shape[1], w.shape[0])   # (h, w, in, out)
            expected = _counting_initializer(keras_shape).permute(3, 2, 0, 1)  # (out, in, h, w)
            layout = say("a Conv2d weight is (out, in, h, w), the Keras kernel (h, w, in, out): "
                         "call the initializer with (h, w, in, out) and permute(3, 2, 0, 1)",
                         "Conv2d 的权重是 (out, in, h, w)，Keras 的核是 (h, w, in, out)："
                         "用 (h, w, in, out) 调用初始化器，再 permute(3, 2, 0, 1)")
        kind = layer.remote_type.rsplit('.', 1)[-1]
        what = say(f"layer {i} ({kind}, weight {tuple(w.shape)})", f"第 {i} 层（{kind}，权重 {tuple(w.shape)}）")
        if w.shape == before[i].shape and torch.equal(w, before[i]):
            raise CheckFailure(en=f"{what.en}: the weight did not change; copy the new kernel into it in place "
                                  f"(with torch.no_grad(): layer.weight.copy_(...)).",
                               zh=f"{what.zh}：权重没有改变；请把新的核就地复制进去"
                                  f"（`with torch.no_grad(): layer.weight.copy_(...)`）。")
        if not torch.equal(w, expected.to(w.dtype)):
            if tuple(w.shape) == tuple(expected.shape) and set(w.reshape(-1).tolist()) == set(
                    expected.reshape(-1).tolist()):
                raise CheckFailure(en=f"{what.en}: the right values in the wrong places; {layout.en}.",
                                   zh=f"{what.zh}：值是对的，但位置不对；{layout.zh}。")
            raise CheckFailure(en=f"{what.en}: expected the kernel kernel_initializer{keras_shape} moved into "
                                  f"torch's layout; {layout.en}. (The check passes an initializer that returns 1, "
                                  f"2, 3, ... so that every element's place can be followed.)",
                               zh=f"{what.zh}：期望把核 kernel_initializer{keras_shape} 转换成 torch 的布局；"
                                  f"{layout.zh}。（检查程序传入的初始化器返回 1, 2, 3, ...，"
                                  f"这样可以追踪每个元素的位置。）")
        bias = layer.bias
        zeros = isinstance(bias, torch.Tensor) and torch.equal(bias.detach(), torch.zeros_like(bias))
        if bias is not None and not zeros:
            raise CheckFailure(en=f"{what.en}: the bias should be zeros (Keras' bias_initializer='zeros').",
                               zh=f"{what.zh}：偏置应当全为 0（Keras 的 bias_initializer='zeros'）。")
        if not isinstance(weight, torch.nn.Parameter) or not weight.requires_grad:
            raise CheckFailure(en=f"{what.en}: the weight must stay a trainable nn.Parameter; change its values "
                                  f"in place instead of replacing it.",
                               zh=f"{what.zh}：权重必须仍是可训练的 nn.Parameter；请就地修改它的值，"
                                  f"而不是替换它。")
    # With a real initializer the weights get He statistics computed from the *Keras* fans.
    model = current().make(Fixture("torch_linear_conv"))
    keras_init_(model, Fixture("he_normal_initializer"))
    for index, kind, fan_in in ((0, "Linear", 400), (1, "Conv2d", 16 * 25)):
        weight = model[index].weight
        expect_equal(isinstance(weight, torch.Tensor), True,
                     what=say(f"keras_init_(model, HeNormal()): the {kind} weight is a tensor",
                              f"keras_init_(model, HeNormal())：{kind} 的权重是张量"))
        std = weight.detach().double().std().item()
        if abs(std / math.sqrt(2.0 / fan_in) - 1) > 0.05:
            raise CheckFailure(en=f"keras_init_(model, HeNormal()): {kind} weight "
                                  f"{tuple(weight.shape)} has std {std:.4g}, expected sqrt(2 / fan_in) = "
                                  f"{math.sqrt(2.0 / fan_in):.4g} with Keras' fan_in = {fan_in}.",
                               zh=f"keras_init_(model, HeNormal())：{kind} 的权重 "
                                  f"{tuple(weight.shape)} 的标准差为 {std:.4g}，期望 sqrt(2 / fan_in) = "
                                  f"{math.sqrt(2.0 / fan_in):.4g}，其中 fan_in = {fan_in} 按 Keras 的规则计算。")


# -- Section 8: conceptual questions (keys in the instructor's checks file) and a planted-bug task --
question("8.5", name="answer_8_5", points=1, kind="choice", choices="abcd")
question("8.6", name="answer_8_6", points=1, kind="number")
outcome_task("8.7", name="train_fixed", points=3, order="given",
             practice={"target": 0.8, "seconds": 6, "n_train": 2000, "n_test": 1000})
