"""Gradients of arithmetic, matmul, clipping, casts, selection and reductions (TF's math_grad.py).

Each function receives the forward op and the gradient of its output(s) and *builds ops* that
return one gradient per input (None where there is none):

    @RegisterGradient("Log")
    def _log_grad(op, grad):
        return [realdiv(grad, op.inputs[0])]          # d log x = dx / x

Broadcasting ops sum their gradients back to each input's shape (`sum_to_shape`).
`course.graph.gradients` imports this module, so these are registered before any backward pass.
"""
import math

from course.framework import dtypes as _dt
from course.framework.shapes import same_or_unknown
from course.graph.array_ops import cast, make_op, zeros_like
from course.graph.math_ops import (add, binary, cos, cosh, exp, matmul, multiply, negative, realdiv, reciprocal, sign,
                                   sin, sinh, sqrt, square, subtract)
from course.graph.registry import NotDifferentiable, RegisterGradient

__all__ = ["sum_to_shape"]

for _t in ("Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "LogicalAnd", "LogicalOr"):
    NotDifferentiable(_t)


NotDifferentiable("FloorDiv")


def sum_to_shape(grad, x):
    """`grad` summed over the axes that broadcasting added to `x` (TF: BroadcastGradientArgs +
    Sum + Reshape); nothing is added when the static shapes already agree."""
    if grad is None:
        return None
    if same_or_unknown(grad.shape, x.shape):
        return grad
    return make_op("SumToShape", [grad, x], None, "SumToShape").outputs[0]


@RegisterGradient("SumToShape")
def _sum_to_shape_grad(op, grad):
    return [make_op("BroadcastLike", [grad, op.inputs[0]], None, "BroadcastLike").outputs[0], None]


@RegisterGradient("AddV2")
def _add_grad(op, grad):
    x, y = op.inputs
    return [sum_to_shape(grad, x), sum_to_shape(grad, y)]


@RegisterGradient("Sub")
def _sub_grad(op, grad):
    x, y = op.inputs
    return [sum_to_shape(grad, x), sum_to_shape(negative(grad), y)]


@RegisterGradient("Mul")
def _mul_grad(op, grad):
    x, y = op.inputs
    return [sum_to_shape(multiply(grad, y), x), sum_to_shape(multiply(x, grad), y)]


@RegisterGradient("RealDiv")
def _div_grad(op, grad):
    x, y = op.inputs                                   # d(x/y) = dx/y - x dy/y²
    return [sum_to_shape(realdiv(grad, y), x),
            sum_to_shape(multiply(grad, realdiv(realdiv(negative(x), y), y)), y)]


@RegisterGradient("Pow")
def _pow_grad(op, grad):
    x, y = op.inputs                                   # d(x^y) = y x^(y-1) dx + x^y log(x) dy
    z = op.outputs[0]
    gx = multiply(grad, multiply(y, binary("Pow", x, subtract(y, 1.0), "Pow")))
    safe_log = make_op("SafeLog", [x], None, "Log").outputs[0]
    gy = multiply(grad, multiply(z, safe_log))
    return [sum_to_shape(gx, x), sum_to_shape(gy, y)]


def _max_min_grad(op, grad):
    x, y = op.inputs
    parts = []
    for which, t in (("x", x), ("y", y)):
        g = make_op("MaximumMinimumGrad", [grad, x, y], {"op": op.type, "which": which},
                    f"{op.type}Grad_{which}").outputs[0]
        parts.append(sum_to_shape(g, t))
    return parts


RegisterGradient("Maximum")(_max_min_grad)
RegisterGradient("Minimum")(_max_min_grad)
NotDifferentiable("FloorMod")
NotDifferentiable("Sign")
NotDifferentiable("Floor")
NotDifferentiable("Ceil")
NotDifferentiable("Round")
NotDifferentiable("LogicalNot")


@RegisterGradient("Neg")
def _neg_grad(op, grad):
    return [negative(grad)]


@RegisterGradient("Log")
def _log_grad(op, grad):
    return [realdiv(grad, op.inputs[0])]                  # d log x = dx / x


@RegisterGradient("Log1p")
def _log1p_grad(op, grad):
    return [realdiv(grad, add(op.inputs[0], 1.0))]


@RegisterGradient("Exp")
def _exp_grad(op, grad):
    return [multiply(grad, op.outputs[0])]                # d e^x = e^x dx


@RegisterGradient("Square")
def _square_grad(op, grad):
    x = op.inputs[0]
    return [multiply(grad, multiply(x, 2.0))]             # d x² = 2x dx


@RegisterGradient("Sqrt")
def _sqrt_grad(op, grad):
    return [realdiv(multiply(grad, 0.5), op.outputs[0])]  # d √x = dx / (2√x)


@RegisterGradient("Rsqrt")
def _rsqrt_grad(op, grad):
    y = op.outputs[0]                                     # d x^-½ = -½ x^-3/2 dx
    return [multiply(grad, multiply(multiply(y, multiply(y, y)), -0.5))]


@RegisterGradient("Abs")
def _abs_grad(op, grad):
    return [multiply(grad, sign(op.inputs[0]))]


@RegisterGradient("Reciprocal")
def _reciprocal_grad(op, grad):
    y = op.outputs[0]                                     # d (1/x) = -dx / x²
    return [negative(multiply(grad, multiply(y, y)))]


# The trigonometric and related gradients in TF's own forms (math_grad.py), so results match it.
@RegisterGradient("Sin")
def _sin_grad(op, grad):
    return [multiply(grad, cos(op.inputs[0]))]


@RegisterGradient("Cos")
def _cos_grad(op, grad):
    return [negative(multiply(grad, sin(op.inputs[0])))]


@RegisterGradient("Tan")
def _tan_grad(op, grad):
    sec = reciprocal(cos(op.inputs[0]))                   # d tan x = sec² x dx
    return [multiply(grad, square(sec))]


@RegisterGradient("Asin")
def _asin_grad(op, grad):
    x = op.inputs[0]                                      # d asin x = dx / √(1 - x²)
    return [multiply(grad, reciprocal(sqrt(subtract(1.0, square(x)))))]


@RegisterGradient("Acos")
def _acos_grad(op, grad):
    x = op.inputs[0]
    return [negative(multiply(grad, reciprocal(sqrt(subtract(1.0, square(x))))))]


@RegisterGradient("Atan")
def _atan_grad(op, grad):
    x = op.inputs[0]                                      # d atan x = dx / (1 + x²)
    return [multiply(grad, reciprocal(add(1.0, square(x))))]


@RegisterGradient("Sinh")
def _sinh_grad(op, grad):
    return [multiply(grad, cosh(op.inputs[0]))]


@RegisterGradient("Cosh")
def _cosh_grad(op, grad):
    return [multiply(grad, sinh(op.inputs[0]))]


@RegisterGradient("Erf")
def _erf_grad(op, grad):
    x = op.inputs[0]                                      # d erf x = 2/√π e^(-x²) dx
    return [multiply(grad, multiply(2.0 / math.sqrt(math.pi), exp(negative(square(x)))))]


@RegisterGradient("Expm1")
def _expm1_grad(op, grad):
    return [multiply(grad, exp(op.inputs[0]))]


@RegisterGradient("MatMul")
def _matmul_grad(op, grad):
    a, b = op.inputs
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    if not ta and not tb:        # C = A B:  dA = dC Bᵀ,  dB = Aᵀ dC
        return [matmul(grad, b, transpose_b=True), matmul(a, grad, transpose_a=True)]
    if not ta and tb:            # C = A Bᵀ: dA = dC B,   dB = dCᵀ A
        return [matmul(grad, b), matmul(grad, a, transpose_a=True)]
    if ta and not tb:            # C = Aᵀ B: dA = B dCᵀ,  dB = A dC
        return [matmul(b, grad, transpose_b=True), matmul(a, grad)]
    return [matmul(b, grad, transpose_a=True, transpose_b=True), matmul(grad, a, transpose_a=True, transpose_b=True)]


@RegisterGradient("BatchMatMulV2")
def _batch_matmul_grad(op, grad):
    ga, gb = _matmul_grad(op, grad)
    return [sum_to_shape(ga, op.inputs[0]), sum_to_shape(gb, op.inputs[1])]


@RegisterGradient("AddN")
def _add_n_grad(op, grad):
    return [grad] * len(op.inputs)


@RegisterGradient("ClipByValue")
def _clip_grad(op, grad):
    g = make_op("ClipByValueGrad", [grad] + list(op.inputs), dict(op.attrs), "ClipByValueGrad").outputs[0]
    return [g] + [None] * (len(op.inputs) - 1)


NotDifferentiable("All")
NotDifferentiable("Any")


def _sum_mean_grad(op, grad):
    attrs = {"axes": op.attrs["axes"], "keepdims": op.attrs["keepdims"], "mean": op.type == "Mean"}
    return [make_op("ReduceGrad", [grad, op.inputs[0]], attrs, f"{op.type}_grad").outputs[0]]


RegisterGradient("Sum")(_sum_mean_grad)
RegisterGradient("Mean")(_sum_mean_grad)


def _extreme_grad(op, grad):
    attrs = {"axes": op.attrs["axes"], "keepdims": op.attrs["keepdims"]}
    return [make_op("ReduceExtremeGrad", [grad, op.inputs[0], op.outputs[0]], attrs, f"{op.type}_grad").outputs[0]]


@RegisterGradient("LogSumExp")
def _logsumexp_grad(op, grad):
    attrs = {"axes": op.attrs["axes"], "keepdims": op.attrs["keepdims"]}
    return [make_op("LogSumExpGrad", [grad, op.inputs[0], op.outputs[0]], attrs, "LogSumExp_grad").outputs[0]]


RegisterGradient("Max")(_extreme_grad)
RegisterGradient("Min")(_extreme_grad)


@RegisterGradient("Prod")
def _prod_grad(op, grad):
    x, y = op.inputs[0], op.outputs[0]          # d prod = prod / x  (x != 0)
    spread = make_op("ReduceGrad", [multiply(grad, y), x],
                     {"axes": op.attrs["axes"], "keepdims": op.attrs["keepdims"],
                      "mean": False}, "Prod_grad").outputs[0]
    return [realdiv(spread, x)]


NotDifferentiable("ArgMax")
NotDifferentiable("ArgMin")


@RegisterGradient("Cast")
def _cast_grad(op, grad):
    src = op.inputs[0].dtype
    if _dt.is_floating(src) and _dt.is_floating(grad.dtype):
        return [cast(grad, src)]
    return [None]


@RegisterGradient("SelectV2")
def _select_grad(op, grad):
    c, x, y = op.inputs
    zeros_ = zeros_like(grad)
    gx = make_op("SelectV2", [c, grad, zeros_], {}, "Select").outputs[0]
    gy = make_op("SelectV2", [c, zeros_, grad], {}, "Select_1").outputs[0]
    return [None, sum_to_shape(gx, x), sum_to_shape(gy, y)]
