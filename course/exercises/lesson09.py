"""Checks for lesson 09, an MLP on MNIST: preprocessing, seed002's Sequential model, the confusion
matrix, and the same model in PyTorch.

References are computed here independently: NumPy for the preprocessing, a Python loop for the
confusion counts, parameter counts from the formula n_in·n_out + n_out, and the learner's torch
layers re-applied by hand (flatten, x Wᵀ + b, relu) for the PyTorch model.
"""
import numpy as np
import torch

from course.exercises import seeding
from course.exercises.expect import CheckFailure, as_tensor, describe, expect, expect_close, expect_equal
from course.exercises.fixtures import Fixture
from course.exercises.forbidden import Forbid
from course.exercises.registry import exercise
from course.exercises.remote import current, is_a, remote_type

__all__ = []


def _pair(result, what):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailure(f"{what}: expected a pair (x, y), got {describe(result)}.")
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
        what = f"preprocess(images, labels, num_classes={num_classes}) with images of shape {shape}"
        x, y = _pair(preprocess(images, labels, num_classes), what)
        n = shape[0]
        expected_x = torch.from_numpy(keep_images.reshape(n, -1).astype(np.float64) / 255.0).float()  # (N, H*W)
        expected_y = torch.zeros(n, num_classes)                                                       # (N, C)
        for i, label in enumerate(keep_labels):
            expected_y[i, int(label)] = 1.0
        gx, gy = as_tensor(x), as_tensor(y)
        expect(gx is not None, f"{what}: x should be an array or tensor, got {describe(x)}.")
        expect(gy is not None, f"{what}: y should be an array or tensor, got {describe(y)}.")
        if tuple(gx.shape) == shape:
            raise CheckFailure(f"{what}: x has shape {shape}; flatten each image to a vector: "
                               f"reshape(N, -1) gives {tuple(expected_x.shape)}.")
        if gx.numel() and gx.is_floating_point() and float(gx.max()) > 1.5:
            raise CheckFailure(f"{what}: x runs up to {float(gx.max()):g}; divide the pixels by 255 so that "
                               f"they lie in [0, 1].")
        if gx.dtype == torch.float64:
            raise CheckFailure(f"{what}: x is float64; networks compute in float32: use .astype('float32') "
                               f"(NumPy) or .float() (torch).")
        if tuple(gy.shape) == (n,):
            raise CheckFailure(f"{what}: y has shape {(n,)}: the labels are still integers; turn each into a "
                               f"one-hot row of length {num_classes} (to_categorical, or np.eye(num_classes)[labels]).")
        if gy.dtype != torch.float32 and tuple(gy.shape) == (n, num_classes):
            raise CheckFailure(f"{what}: y has dtype {str(gy.dtype).replace('torch.', '')}; one-hot labels are "
                               f"float32, as to_categorical returns them (convert with .astype('float32') or "
                               f".float()).")
        expect_close(x, expected_x, what=f"{what}: x", rtol=1e-6, atol=1e-7)
        expect_close(y, expected_y, what=f"{what}: y (one-hot)", inputs={"labels": keep_labels})
        expect(np.array_equal(images, keep_images) and np.array_equal(labels, keep_labels),
               f"{what} modified its arguments in place; compute new arrays instead.")


# -- 9.2 ----------------------------------------------------------------------------------------

def _activation_name(layer):
    return getattr(getattr(layer, "activation", None), "__name__", None)


@exercise("9.2", name="build_mlp", points=2, forbid=Forbid(
    methods=("compile",), why="Exercise 9.2 builds the model and does not compile it (the caller does)."))
def _check_build_mlp(build_mlp):
    """seed002's Sequential: Flatten(28, 28) -> Dense(h, relu) -> Dropout(r) -> Dense(C, softmax)."""
    for hidden, dropout, num_classes in ((128, 0.2, 10), (64, 0.5, 5)):
        what = f"build_mlp(hidden={hidden}, dropout={dropout}, num_classes={num_classes})"
        model = build_mlp(hidden=hidden, dropout=dropout, num_classes=num_classes)
        if is_a(model, "torch.nn.modules.container.Sequential"):
            raise CheckFailure(f"{what} returned a torch nn.Sequential; this exercise wants Keras': "
                               f"models.Sequential([...]) with layers from course.tf.keras.layers.")
        expect(is_a(model, "course.keras.models.Sequential", "course.keras.sequential.Sequential"),
               f"{what}: expected a models.Sequential, got {describe(model)}.")
        kinds = [remote_type(layer) for layer in model.layers]
        expect_equal(kinds, ["Flatten", "Dense", "Dropout", "Dense"], what=f"{what}: the layer types, in order")
        flatten, dense1, drop, dense2 = model.layers
        expect(model.built, f"{what}: the model is not built, so its weights do not exist yet; give the first "
                            f"layer its input shape: layers.Flatten(input_shape=(28, 28)).")
        expect_equal(dense1.units, hidden, what=f"{what}: units of the hidden Dense layer")
        expect_equal(_activation_name(dense1), "relu", what=f"{what}: activation of the hidden Dense layer")
        if abs(drop.rate - (1 - dropout)) < 1e-9 and abs(dropout - 0.5) > 1e-9:
            raise CheckFailure(f"{what}: Dropout rate is {drop.rate:g} = 1 - {dropout}; Keras' Dropout takes the "
                               f"fraction to DROP (rate), not TF1's keep_prob: Dropout({dropout}).")
        expect(abs(drop.rate - dropout) < 1e-9, f"{what}: Dropout rate: expected {dropout}, got {drop.rate}.")
        expect_equal(dense2.units, num_classes, what=f"{what}: units of the output Dense layer")
        expect_equal(_activation_name(dense2), "softmax", what=f"{what}: activation of the output layer")
        counts = [784 * hidden + hidden, hidden * num_classes + num_classes]    # n_in·n_out + n_out
        expect_equal(dense1.count_params(), counts[0], what=f"{what}: parameters of the hidden layer "
                                                            f"(784·{hidden} + {hidden}; input 28·28 = 784?)")
        expect_equal(dense2.count_params(), counts[1], what=f"{what}: parameters of the output layer")
        expect_equal(model.count_params(), sum(counts), what=f"{what}: model.count_params()")
        x = seeding.numpy_rng(0).random((4, 28, 28)).astype(np.float32)
        p = as_tensor(model(x))
        expect(p is not None and tuple(p.shape) == (4, num_classes),
               f"{what}: model(x) for x of shape (4, 28, 28) should have shape (4, {num_classes}); "
               f"got {describe(p)}.")
        expect_close(p.sum(dim=1), torch.ones(4), what=f"{what}: row sums of model(x) (softmax probabilities)",
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
            raise CheckFailure(f"{what}: expected a pair (accuracy, counts), got {describe(result)}.")
        accuracy, counts = result
        expected = torch.zeros(c, c, dtype=torch.int64)                  # (C, C)
        for t, p in zip(y_true.tolist(), y_pred.tolist()):
            expected[t, p] += 1
        expected_acc = sum(int(t == p) for t, p in zip(y_true.tolist(), y_pred.tolist())) / len(y_true)
        try:
            acc = float(accuracy)
        except (TypeError, ValueError):
            raise CheckFailure(f"{what}: accuracy should be a number, got {describe(accuracy)}.") from None
        if abs(acc - 100 * expected_acc) < 1e-4 and expected_acc > 0.01:
            raise CheckFailure(f"{what}: accuracy {acc:g} looks like a percentage; return a fraction in [0, 1] "
                               f"({expected_acc:g}).")
        expect(abs(acc - expected_acc) < 1e-6 + 1e-6 * expected_acc,
               f"{what} on input y_true = {y_true.tolist()[:12]}, y_pred = {y_pred.tolist()[:12]}"
               f"{' ...' if len(y_true) > 12 else ''}: accuracy expected {expected_acc:g}, got {acc:g}.")
        got = as_tensor(counts)
        if got is not None and tuple(got.shape) == (c, c) and not torch.equal(expected, expected.T) \
                and torch.equal(got.to(torch.int64), expected.T):
            raise CheckFailure(f"{what}: counts is transposed: rows are the TRUE classes, columns the predicted "
                               f"ones (counts[true, predicted]).")
        expect_close(counts, expected, what=f"{what}: counts", inputs=inputs, kind="torch")


# -- 9.4 ----------------------------------------------------------------------------------------

@exercise("9.4", name="torch_mlp", points=2)
def _check_torch_mlp(torch_mlp):
    """nn.Sequential: flatten -> Linear(784, h) -> ReLU -> Dropout(p) -> Linear(h, C), logits out."""
    for hidden, dropout, num_classes in ((128, 0.2, 10), (32, 0.5, 4)):
        what = f"torch_mlp(hidden={hidden}, dropout={dropout}, num_classes={num_classes})"
        _seed_learner_side(0)
        model = torch_mlp(hidden=hidden, dropout=dropout, num_classes=num_classes)
        expect(is_a(model, "torch.nn.modules.module.Module"),
               f"{what}: expected an nn.Module (nn.Sequential), got {describe(model)}.")
        modules = list(model.modules())
        linears = [m for m in modules if is_a(m, "torch.nn.modules.linear.Linear")]
        expect(len(linears) == 2, f"{what}: expected 2 nn.Linear layers, found {len(linears)}.")
        first, last = linears
        first_weight, first_bias, last_weight, last_bias = first.weight, first.bias, last.weight, last.bias
        if tuple(first_weight.shape) == (784, hidden) and hidden != 784:
            raise CheckFailure(f"{what}: the first nn.Linear has weight shape (784, {hidden}), i.e. it maps {hidden} "
                               f"inputs to 784 outputs: nn.Linear takes (in_features, out_features) = (784, {hidden}).")
        expect_equal(tuple(first_weight.shape), (hidden, 784),
                     what=f"{what}: weight shape of the first nn.Linear ((out, in) in PyTorch)")
        expect_equal(tuple(last_weight.shape), (num_classes, hidden),
                     what=f"{what}: weight shape of the last nn.Linear")
        expected_params = 784 * hidden + hidden + hidden * num_classes + num_classes
        expect_equal(sum(p.numel() for p in model.parameters()), expected_params, what=f"{what}: number of parameters")
        drops = [m for m in modules if is_a(m, "torch.nn.modules.dropout.Dropout")]
        expect(len(drops) == 1, f"{what}: expected one nn.Dropout layer, found {len(drops)}.")
        if abs(drops[0].p - (1 - dropout)) < 1e-9 and abs(dropout - 0.5) > 1e-9:
            raise CheckFailure(f"{what}: nn.Dropout(p={drops[0].p:g}); p is the probability of dropping a unit "
                               f"(Keras' rate), not TF1's keep_prob: nn.Dropout({dropout}).")
        expect(abs(drops[0].p - dropout) < 1e-9, f"{what}: nn.Dropout p: expected {dropout}, got {drops[0].p}.")

        x = torch.rand(5, 28, 28, generator=seeding.torch_generator(1))          # (5, 28, 28)
        model.eval()
        try:
            with torch.no_grad():
                out = model(x.clone())
        except RuntimeError as exc:
            raise CheckFailure(f"{what}: model(x) with x of shape (5, 28, 28) failed ({str(exc).splitlines()[0]}); "
                               f"start with nn.Flatten() so that each image becomes a vector of 784.") from None
        with torch.no_grad():
            hidden_ref = torch.relu(x.reshape(5, -1) @ first_weight.T + first_bias)    # (5, h)
            logits_ref = hidden_ref @ last_weight.T + last_bias                        # (5, C)
        got = as_tensor(out)
        if got is not None and got.shape == logits_ref.shape and torch.allclose(
                got, torch.softmax(logits_ref, dim=1), atol=1e-5):
            raise CheckFailure(f"{what}: the model ends with a softmax; return logits instead: "
                               f"nn.CrossEntropyLoss applies log-softmax itself.")
        expect_close(out, logits_ref, what=f"{what} in eval mode: model(x), x of shape (5, 28, 28), compared with "
                                          f"Linear -> ReLU -> Linear on your own layers", rtol=1e-4, atol=1e-5)
        model.train()
        with torch.no_grad():
            a, b = model(x.clone()), model(x.clone())
        expect(not torch.equal(a, b), f"{what}: in train mode two forward passes gave the same output; Dropout "
                                      f"should switch units off at random during training.")
