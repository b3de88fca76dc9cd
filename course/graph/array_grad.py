"""Gradients of constants, identities, reshapes, transposes, concat/stack, slicing and gather
(TF's array_grad.py).

Each function receives the forward op and the gradient of its output(s) and *builds ops* that
return one gradient per input. `course.graph.gradients` imports this module, so these are
registered before any backward pass.
"""
from course.graph.array_ops import make_op
from course.graph.registry import NotDifferentiable, RegisterGradient
from course.graph.shape_ops import reshape, transpose

__all__ = []


NotDifferentiable("Const")
NotDifferentiable("Placeholder")
NotDifferentiable("StopGradient")


@RegisterGradient("Identity")
def _identity_grad(op, grad):
    return [grad]


@RegisterGradient("PlaceholderWithDefault")
def _pwd_grad(op, grad):
    return [grad]


@RegisterGradient("Print")
def _print_grad(op, grad):
    return [grad] + [None] * (len(op.inputs) - 1)


NotDifferentiable("Fill")
NotDifferentiable("ZerosLike")
NotDifferentiable("OnesLike")
NotDifferentiable("NoOp")


@RegisterGradient("Reshape")
def _reshape_grad(op, grad):
    x = op.inputs[0]
    if x.shape.is_fully_defined():
        g = reshape(grad, list(x.shape))
    else:
        g = make_op("ReshapeLike", [grad, x], None, "Reshape").outputs[0]
    return [g] + [None] * (len(op.inputs) - 1)


@RegisterGradient("ReshapeLike")
def _reshape_like_grad(op, grad):
    return [make_op("ReshapeLike", [grad, op.inputs[0]], None, "Reshape").outputs[0], None]


@RegisterGradient("Transpose")
def _transpose_grad(op, grad):
    perm = op.attrs["perm"]
    return [transpose(grad, [perm.index(i) for i in range(len(perm))])]


@RegisterGradient("ConcatV2")
def _concat_grad(op, grad):
    return [make_op("ConcatGrad", [grad] + list(op.inputs), {"axis": op.attrs["axis"], "index": i},
                    "ConcatGrad").outputs[0] for i in range(len(op.inputs))]


@RegisterGradient("Pack")
def _pack_grad(op, grad):
    return [make_op("Unpack1", [grad], {"axis": op.attrs["axis"], "index": i}, "unstack").outputs[0]
            for i in range(len(op.inputs))]


NotDifferentiable("Shape")
NotDifferentiable("Size")
NotDifferentiable("Rank")


@RegisterGradient("ExpandDims")
def _expand_grad(op, grad):
    return [_reshape_grad(op, grad)[0]]


@RegisterGradient("Squeeze")
def _squeeze_grad(op, grad):
    return [_reshape_grad(op, grad)[0]]


NotDifferentiable("OneHot")


@RegisterGradient("Tile")
def _tile_grad(op, grad):
    return [make_op("TileGrad", [grad, op.inputs[0]], dict(op.attrs), "Tile_grad").outputs[0]]


@RegisterGradient("Pad")
def _pad_grad(op, grad):
    return [make_op("PadGrad", [grad, op.inputs[0]], dict(op.attrs), "Pad_grad").outputs[0]]


@RegisterGradient("StridedSlice")
def _strided_slice_grad(op, grad):
    return [make_op("StridedSliceGrad", [op.inputs[0], grad], {"key": op.attrs["key"]}, "StridedSliceGrad").outputs[0]]


@RegisterGradient("GatherV2")
def _gather_grad(op, grad):
    p, idx, _ = op.inputs
    dp = make_op("GatherGrad", [grad, p, idx], dict(op.attrs), "GatherGrad").outputs[0]
    return [dp, None, None]
