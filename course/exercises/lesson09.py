"""Checks for lesson 09, an MLP on MNIST: preprocessing, seed002's Sequential model, the confusion
matrix, and the same model in PyTorch.

References are computed here independently: NumPy for the preprocessing, a Python loop for the
confusion counts, parameter counts from the formula n_in·n_out + n_out, and the learner's torch
layers re-applied by hand (flatten, x Wᵀ + b, relu) for the PyTorch model.
"""
import numpy as np
import torch

from course.exercises import seeding
from course.exercises.expect import CheckFailure, as_tensor, describe, expect, expect_close, expect_equal, say
from course.exercises.fixtures import Fixture
from course.exercises.forbidden import Forbid
from course.exercises.outcome import outcome_task
from course.exercises.questions import question
from course.exercises.registry import exercise
from course.exercises.remote import current, is_a, remote_type

__all__ = []


def _pair(result, what):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailure(en=f"{what.en}: expected a pair (x, y), got {describe(result)}.",
                           zh=f"{what.zh}：期望一对值 (x, y)，得到 {describe(result, lang='zh')}。")
    return result



def _seed_learner_side(offset):
    """Seed torch's global generator where the learner's code runs (fresh per grading run)."""
    current().make(Fixture("torch_seed", seeding.current_seed() % 2**31 + offset), keep=False)


# -- 9.1 ----------------------------------------------------------------------------------------

@exercise("9.1", name="preprocess", points=2)
def _check_preprocess(preprocess):
    """uint8 (N, H, W), int (N,) -> float32 (N, H·W) in [0, 1], float32 one-hot (N, C)."""
    rng = seeding.numpy_rng(9)
    cases = [((5, 28, 28), np.array([3, 0, 9, 3, 7], dtype=np.uint8), 10),    # Keras' labels are uint8
             ((4, 3, 5), np.array([2, 0, 1, 2], dtype=np.int64), 3),
             ((1, 28, 28), np.array([9], dtype=np.int64), 10)]
    for shape, labels, num_classes in cases:
        images = rng.integers(0, 256, size=shape, dtype=np.uint8)
        images[0, 0, 0], images[-1, -1, -1] = 0, 255
        keep_images, keep_labels = images.copy(), labels.copy()
        call = f"preprocess(images, labels, num_classes={num_classes})"
        what = say(f"{call} with images of shape {shape}", f"{call}（images 的形状为 {shape}）")
        x, y = _pair(preprocess(images, labels, num_classes), what)
        n = shape[0]
        expected_x = torch.from_numpy(keep_images.reshape(n, -1).astype(np.float64) / 255.0).float()  # (N, H*W)
        expected_y = torch.zeros(n, num_classes)                                                       # (N, C)
        for i, label in enumerate(keep_labels):
            expected_y[i, int(label)] = 1.0
        gx, gy = as_tensor(x), as_tensor(y)
        expect(gx is not None, en=f"{what.en}: x should be an array or tensor, got {describe(x)}.",
               zh=f"{what.zh}：x 应当是数组或张量，得到 {describe(x, lang='zh')}。")
        expect(gy is not None, en=f"{what.en}: y should be an array or tensor, got {describe(y)}.",
               zh=f"{what.zh}：y 应当是数组或张量，得到 {describe(y, lang='zh')}。")
        if tuple(gx.shape) == shape:
            raise CheckFailure(en=f"{what.en}: x has shape {shape}; flatten each image to a vector: "
                                  f"reshape(N, -1) gives {tuple(expected_x.shape)}.",
                               zh=f"{what.zh}：x 的形状是 {shape}；请把每张图像展平成一个向量："
                                  f"reshape(N, -1) 得到 {tuple(expected_x.shape)}。")
        if gx.numel() and gx.is_floating_point() and float(gx.max()) > 1.5:
            raise CheckFailure(en=f"{what.en}: x runs up to {float(gx.max()):g}; divide the pixels by 255 so that "
                                  f"they lie in [0, 1].",
                               zh=f"{what.zh}：x 的值最大达到 {float(gx.max()):g}；请把像素除以 255，"
                                  f"使它们落在 [0, 1] 之间。")
        if gx.dtype == torch.float64:
            raise CheckFailure(en=f"{what.en}: x is float64; networks compute in float32: use .astype('float32') "
                                  f"(NumPy) or .float() (torch).",
                               zh=f"{what.zh}：x 是 float64；神经网络用 float32 计算：请用 .astype('float32')"
                                  f"（NumPy）或 .float()（torch）。")
        if tuple(gy.shape) == (n,):
            raise CheckFailure(en=f"{what.en}: y has shape {(n,)}: the labels are still integers; turn each into a "
                                  f"one-hot row of length {num_classes} (to_categorical, or "
                                  f"np.eye(num_classes)[labels]).",
                               zh=f"{what.zh}：y 的形状是 {(n,)}：标签还是整数；请把每个标签变成长度为 "
                                  f"{num_classes} 的独热编码行（to_categorical，或 np.eye(num_classes)[labels]）。")
        if gy.dtype != torch.float32 and tuple(gy.shape) == (n, num_classes):
            dtype = str(gy.dtype).replace('torch.', '')
            raise CheckFailure(en=f"{what.en}: y has dtype {dtype}; one-hot labels are "
                                  f"float32, as to_categorical returns them (convert with .astype('float32') or "
                                  f".float()).",
                               zh=f"{what.zh}：y 的数据类型是 {dtype}；独热编码的标签是 float32，"
                                  f"和 to_categorical 返回的一样（用 .astype('float32') 或 .float() 转换）。")
        expect_close(x, expected_x, what=what + say(": x", "：x"), rtol=1e-6, atol=1e-7)
        expect_close(y, expected_y, what=what + say(": y (one-hot)", "：y（独热编码）"),
                     inputs={"labels": keep_labels})
        expect(np.array_equal(images, keep_images) and np.array_equal(labels, keep_labels),
               en=f"{what.en} modified its arguments in place; compute new arrays instead.",
               zh=f"{what.zh} 原地修改了它的参数；请计算新的数组。")


# -- 9.2 ----------------------------------------------------------------------------------------

def _activation_name(layer):
    return getattr(getattr(layer, "activation", None), "__name__", None)


@exercise("9.2", name="build_mlp", points=2, forbid=Forbid(
    methods=("compile",), why=say("Exercise 9.2 builds the model and does not compile it (the caller does).",
                                  "练习 9.2 只构建模型，不编译它（由调用者编译）。")))
def _check_build_mlp(build_mlp):
    """seed002's Sequential: Flatten(28, 28) -> Dense(h, relu) -> Dropout(r) -> Dense(C, softmax)."""
    for hidden, dropout, num_classes in ((128, 0.2, 10), (64, 0.5, 5)):
        what = f"build_mlp(hidden={hidden}, dropout={dropout}, num_classes={num_classes})"
        model = build_mlp(hidden=hidden, dropout=dropout, num_classes=num_classes)
        if is_a(model, "torch.nn.modules.container.Sequential"):
            raise CheckFailure(en=f"{what} returned a torch nn.Sequential; this exercise wants Keras': "
                                  f"models.Sequential([...]) with layers from course.tf.keras.layers.",
                               zh=f"{what} 返回了 torch 的 nn.Sequential；这道练习要的是 Keras 的 "
                                  f"models.Sequential([...])，其中的层来自 course.tf.keras.layers。")
        expect(is_a(model, "course.keras.models.Sequential", "course.keras.sequential.Sequential"),
               en=f"{what}: expected a models.Sequential, got {describe(model)}.",
               zh=f"{what}：期望 models.Sequential，得到 `{describe(model, lang='zh')}`。")
        kinds = [remote_type(layer) for layer in model.layers]
        expect_equal(kinds, ["Flatten", "Dense", "Dropout", "Dense"],
                     what=say(f"{what}: the layer types, in order", f"{what}：各层的类型（按顺序）"))
        flatten, dense1, drop, dense2 = model.layers
        expect(model.built, en=f"{what}: the model is not built, so its weights do not exist yet; give the first "
                               f"layer its input shape: layers.Flatten(input_shape=(28, 28)).",
               zh=f"{what}：模型还没有构建，所以它的权重还不存在；请给第一层指定输入形状："
                  f"layers.Flatten(input_shape=(28, 28))。")
        expect_equal(dense1.units, hidden, what=say(f"{what}: units of the hidden Dense layer",
                                                    f"{what}：隐藏 Dense 层的单元数"))
        expect_equal(_activation_name(dense1), "relu", what=say(f"{what}: activation of the hidden Dense layer",
                                                                f"{what}：隐藏 Dense 层的激活函数"))
        if abs(drop.rate - (1 - dropout)) < 1e-9 and abs(dropout - 0.5) > 1e-9:
            raise CheckFailure(en=f"{what}: Dropout rate is {drop.rate:g} = 1 - {dropout}; Keras' Dropout takes the "
                                  f"fraction to DROP (rate), not TF1's keep_prob: Dropout({dropout}).",
                               zh=f"{what}：Dropout 的 rate 是 {drop.rate:g} = 1 - {dropout}；Keras 的 Dropout "
                                  f"接收的是要*丢弃*的比例（rate），而不是 TF1 的 keep_prob：Dropout({dropout})。")
        expect(abs(drop.rate - dropout) < 1e-9, en=f"{what}: Dropout rate: expected {dropout}, got {drop.rate}.",
               zh=f"{what}：Dropout 的 rate：期望 {dropout}，得到 {drop.rate}。")
        expect_equal(dense2.units, num_classes, what=say(f"{what}: units of the output Dense layer",
                                                         f"{what}：输出 Dense 层的单元数"))
        expect_equal(_activation_name(dense2), "softmax", what=say(f"{what}: activation of the output layer",
                                                                   f"{what}：输出层的激活函数"))
        counts = [784 * hidden + hidden, hidden * num_classes + num_classes]    # n_in·n_out + n_out
        expect_equal(dense1.count_params(), counts[0],
                     what=say(f"{what}: parameters of the hidden layer (784·{hidden} + {hidden}; input 28·28 = 784?)",
                              f"{what}：隐藏层的参数个数（784·{hidden} + {hidden}；输入是 28·28 = 784 吗？）"))
        expect_equal(dense2.count_params(), counts[1], what=say(f"{what}: parameters of the output layer",
                                                                f"{what}：输出层的参数个数"))
        expect_equal(model.count_params(), sum(counts),
                     what=say(f"{what}: model.count_params()", f"{what}：model.count_params()"))
        x = seeding.numpy_rng(0).random((4, 28, 28)).astype(np.float32)
        p = as_tensor(model(x))
        expect(p is not None and tuple(p.shape) == (4, num_classes),
               en=f"{what}: model(x) for x of shape (4, 28, 28) should have shape (4, {num_classes}); "
                  f"got {describe(p)}.",
               zh=f"{what}：对形状为 (4, 28, 28) 的 x，model(x) 的形状应为 (4, {num_classes})；"
                  f"得到 {describe(p, lang='zh')}。")
        expect_close(p.sum(dim=1), torch.ones(4), what=say(f"{what}: row sums of model(x) (softmax probabilities)",
                                                           f"{what}：model(x) 每一行的和（softmax 概率）"),
                     rtol=1e-5, atol=1e-5)


# -- 9.3 ----------------------------------------------------------------------------------------

@exercise("9.3", name="confusion", points=2)
def _check_confusion(confusion):
    """(accuracy, counts) with counts[i, j] = number of samples of true class i predicted as j."""
    g = seeding.torch_generator(93)
    cases = [(torch.tensor([0, 1, 2, 2, 1]), torch.tensor([0, 2, 2, 2, 1]), 3),
             (torch.randint(0, 10, (200,), generator=g), torch.randint(0, 10, (200,), generator=g), 10),
             (torch.tensor([0, 1, 1, 0]), torch.tensor([1, 1, 1, 0]), 5),      # classes 2..4 never occur
             (torch.tensor([7]), torch.tensor([7]), 10)]
    for y_true, y_pred, c in cases:
        what = f"confusion(y_true, y_pred, num_classes={c})"
        inputs = {"y_true": y_true, "y_pred": y_pred}
        result = confusion(y_true.clone(), y_pred.clone(), c)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise CheckFailure(en=f"{what}: expected a pair (accuracy, counts), got {describe(result)}.",
                               zh=f"{what}：期望一对值 (accuracy, counts)，得到 {describe(result, lang='zh')}。")
        accuracy, counts = result
        expected = torch.zeros(c, c, dtype=torch.int64)                  # (C, C)
        for t, p in zip(y_true.tolist(), y_pred.tolist()):
            expected[t, p] += 1
        expected_acc = sum(int(t == p) for t, p in zip(y_true.tolist(), y_pred.tolist())) / len(y_true)
        try:
            acc = float(accuracy)
        except (TypeError, ValueError):
            raise CheckFailure(en=f"{what}: accuracy should be a number, got {describe(accuracy)}.",
                               zh=f"{what}：accuracy（准确率）应当是一个数，得到 {describe(accuracy, lang='zh')}。"
                               ) from None
        if abs(acc - 100 * expected_acc) < 1e-4 and expected_acc > 0.01:
            raise CheckFailure(en=f"{what}: accuracy {acc:g} looks like a percentage; return a fraction in [0, 1] "
                                  f"({expected_acc:g}).",
                               zh=f"{what}：准确率 {acc:g} 看起来是百分数；应返回 [0, 1] 之间的比例"
                                  f"（{expected_acc:g}）。")
        shown = f"y_true = {y_true.tolist()[:12]}, y_pred = {y_pred.tolist()[:12]}{' ...' if len(y_true) > 12 else ''}"
        expect(abs(acc - expected_acc) < 1e-6 + 1e-6 * expected_acc,
               en=f"{what} on input {shown}: accuracy expected {expected_acc:g}, got {acc:g}.",
               zh=f"{what}，输入为 {shown}：准确率期望 {expected_acc:g}，得到 {acc:g}。")
        got = as_tensor(counts)
        if got is not None and tuple(got.shape) == (c, c) and not torch.equal(expected, expected.T) \
                and torch.equal(got.to(torch.int64), expected.T):
            raise CheckFailure(en=f"{what}: counts is transposed: rows are the TRUE classes, columns the predicted "
                                  f"ones (counts[true, predicted]).",
                               zh=f"{what}：counts 转置了：行是*真实*类别，列是预测的类别"
                                  f"（counts[true, predicted]）。")
        expect_close(counts, expected, what=say(f"{what}: counts", f"{what}：counts"), inputs=inputs, kind="torch")


# -- 9.4 ----------------------------------------------------------------------------------------

@exercise("9.4", name="torch_mlp", points=2)
def _check_torch_mlp(torch_mlp):
    """nn.Sequential: flatten -> Linear(784, h) -> ReLU -> Dropout(p) -> Linear(h, C), logits out."""
    for hidden, dropout, num_classes in ((128, 0.2, 10), (32, 0.5, 4)):
        what = f"torch_mlp(hidden={hidden}, dropout={dropout}, num_classes={num_classes})"
        _seed_learner_side(0)
        model = torch_mlp(hidden=hidden, dropout=dropout, num_classes=num_classes)
        expect(is_a(model, "torch.nn.modules.module.Module"),
               en=f"{what}: expected an nn.Module (nn.Sequential), got {describe(model)}.",
               zh=f"{what}：期望 nn.Module（nn.Sequential），得到 `{describe(model, lang='zh')}`。")
        modules = list(model.modules())
        linears = [m for m in modules if is_a(m, "torch.nn.modules.linear.Linear")]
        expect(len(linears) == 2, en=f"{what}: expected 2 nn.Linear layers, found {len(linears)}.",
               zh=f"{what}：期望 2 个 nn.Linear 层，找到 {len(linears)} 个。")
        first, last = linears
        first_weight, first_bias, last_weight, last_bias = first.weight, first.bias, last.weight, last.bias
        if tuple(first_weight.shape) == (784, hidden) and hidden != 784:
            raise CheckFailure(en=f"{what}: the first nn.Linear has weight shape (784, {hidden}), i.e. it maps "
                                  f"{hidden} inputs to 784 outputs: nn.Linear takes (in_features, out_features) = "
                                  f"(784, {hidden}).",
                               zh=f"{what}：第一个 nn.Linear 的权重形状是 (784, {hidden})，也就是把 {hidden} 个输入"
                                  f"映射到 784 个输出：nn.Linear 的参数是 (in_features, out_features) = "
                                  f"(784, {hidden})。")
        expect_equal(tuple(first_weight.shape), (hidden, 784),
                     what=say(f"{what}: weight shape of the first nn.Linear ((out, in) in PyTorch)",
                              f"{what}：第一个 nn.Linear 的权重形状（PyTorch 中为 (out, in)）"))
        expect_equal(tuple(last_weight.shape), (num_classes, hidden),
                     what=say(f"{what}: weight shape of the last nn.Linear", f"{what}：最后一个 nn.Linear 的权重形状"))
        expected_params = 784 * hidden + hidden + hidden * num_classes + num_classes
        expect_equal(sum(p.numel() for p in model.parameters()), expected_params,
                     what=say(f"{what}: number of parameters", f"{what}：参数个数"))
        drops = [m for m in modules if is_a(m, "torch.nn.modules.dropout.Dropout")]
        expect(len(drops) == 1, en=f"{what}: expected one nn.Dropout layer, found {len(drops)}.",
               zh=f"{what}：期望 1 个 nn.Dropout 层，找到 {len(drops)} 个。")
        if abs(drops[0].p - (1 - dropout)) < 1e-9 and abs(dropout - 0.5) > 1e-9:
            raise CheckFailure(en=f"{what}: nn.Dropout(p={drops[0].p:g}); p is the probability of dropping a unit "
                                  f"(Keras' rate), not TF1's keep_prob: nn.Dropout({dropout}).",
                               zh=f"{what}：nn.Dropout(p={drops[0].p:g})；p 是丢弃一个单元的概率"
                                  f"（即 Keras 的 rate），而不是 TF1 的 keep_prob：nn.Dropout({dropout})。")
        expect(abs(drops[0].p - dropout) < 1e-9, en=f"{what}: nn.Dropout p: expected {dropout}, got {drops[0].p}.",
               zh=f"{what}：nn.Dropout 的 p：期望 {dropout}，得到 {drops[0].p}。")

        x = torch.rand(5, 28, 28, generator=seeding.torch_generator(1))          # (5, 28, 28)
        model.eval()
        try:
            with torch.no_grad():
                out = model(x.clone())
        except RuntimeError as exc:
            said = str(exc).splitlines()[0]
            raise CheckFailure(en=f"{what}: model(x) with x of shape (5, 28, 28) failed ({said}); "
                                  f"start with nn.Flatten() so that each image becomes a vector of 784.",
                               zh=f"{what}：对形状为 (5, 28, 28) 的 x 调用 model(x) 失败了（`{said}`）；"
                                  f"请以 nn.Flatten() 开头，把每张图像变成长度为 784 的向量。") from None
        with torch.no_grad():
            hidden_ref = torch.relu(x.reshape(5, -1) @ first_weight.T + first_bias)    # (5, h)
            logits_ref = hidden_ref @ last_weight.T + last_bias                        # (5, C)
        got = as_tensor(out)
        if got is not None and got.shape == logits_ref.shape and torch.allclose(
                got, torch.softmax(logits_ref, dim=1), atol=1e-5):
            raise CheckFailure(en=f"{what}: the model ends with a softmax; return logits instead: "
                                  f"nn.CrossEntropyLoss applies log-softmax itself.",
                               zh=f"{what}：模型以 softmax 结尾；应返回 logit（未归一化分数）："
                                  f"nn.CrossEntropyLoss 自己会做 log-softmax。")
        expect_close(out, logits_ref, what=say(f"{what} in eval mode: model(x), x of shape (5, 28, 28), compared with "
                                               f"Linear -> ReLU -> Linear on your own layers",
                                               f"{what}，评估模式下：model(x)（x 的形状为 (5, 28, 28)）与用你自己的层"
                                               f"计算的 Linear -> ReLU -> Linear 比较"), rtol=1e-4, atol=1e-5)
        model.train()
        with torch.no_grad():
            a, b = model(x.clone()), model(x.clone())
        expect(not torch.equal(a, b), en=f"{what}: in train mode two forward passes gave the same output; Dropout "
                                         f"should switch units off at random during training.",
               zh=f"{what}：训练模式下两次前向传播给出了相同的输出；训练时 Dropout 应当随机关闭一些单元。")


# -- Section 9: conceptual questions (keys in the instructor's checks file) and a planted-bug task --
question("9.5", name="answer_9_5", points=1, kind="number")
question("9.6", name="answer_9_6", points=1, kind="number")
outcome_task("9.7", name="train_fixed", points=3, order="given",
             practice={"target": 0.8, "seconds": 6, "n_train": 2000, "n_test": 1000})
