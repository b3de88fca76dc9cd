"""`tf.linalg`: matrix functions on the last two axes (batched over the rest), TF argument names."""
import torch

from course.tape.math_ops import _pair, matmul, norm, tensordot, einsum, l2_normalize
from course.tape.array_ops import matrix_transpose
from course.tape.creation import eye
from course.tape.tensor import to_tensor, wrap

__all__ = ["matmul", "matvec", "inv", "det", "slogdet", "logdet", "trace", "diag", "diag_part", "set_diag", "solve",
           "cholesky", "svd", "qr", "eigh", "pinv", "norm", "tensordot", "einsum", "l2_normalize",
           "matrix_transpose", "eye", "band_part", "lstsq"]


def _t(x):
    t = to_tensor(x)
    return t if t.dtype.is_floating_point or t.dtype.is_complex else t.to(torch.float32)


def matvec(a, b, transpose_a=False, adjoint_a=False, name=None):
    """a @ b for a matrix a (..., m, n) and a vector b (..., n)."""
    x, v = _pair(a, b)
    if transpose_a or adjoint_a:
        x = x.transpose(-1, -2).conj() if adjoint_a else x.transpose(-1, -2)
    return wrap(torch.matmul(x, v.unsqueeze(-1)).squeeze(-1))


def inv(input, adjoint=False, name=None):
    out = torch.linalg.inv(_t(input))
    return wrap(out.transpose(-1, -2).conj() if adjoint else out)


def det(input, name=None):
    return wrap(torch.linalg.det(_t(input)))


def slogdet(input, name=None):
    sign, logabs = torch.linalg.slogdet(_t(input))
    return wrap(sign), wrap(logabs)


def logdet(matrix, name=None):
    return wrap(torch.logdet(_t(matrix)))


def trace(x, name=None):
    return wrap(torch.diagonal(to_tensor(x), dim1=-2, dim2=-1).sum(-1))


def diag(diagonal, name="diag", k=0, num_rows=-1, num_cols=-1, padding_value=0, align="RIGHT_LEFT"):
    return wrap(torch.diag_embed(to_tensor(diagonal), offset=int(k)))


def diag_part(input, name="diag_part", k=0, padding_value=0, align="RIGHT_LEFT"):
    return wrap(torch.diagonal(to_tensor(input), offset=int(k), dim1=-2, dim2=-1))


def set_diag(input, diagonal, name="set_diag", k=0, align="RIGHT_LEFT"):
    x = to_tensor(input).clone()
    torch.diagonal(x, offset=int(k), dim1=-2, dim2=-1).copy_(to_tensor(diagonal, x.dtype))
    return wrap(x)


def solve(matrix, rhs, adjoint=False, name=None):
    a, b = _pair(matrix, rhs)
    return wrap(torch.linalg.solve(a.transpose(-1, -2).conj() if adjoint else a, b))


def cholesky(input, name=None):
    return wrap(torch.linalg.cholesky(_t(input)))


def svd(tensor, full_matrices=False, compute_uv=True, name=None):
    """TF's order and convention: (s, u, v) with tensor = u @ diag(s) @ v^H (v, not v^H)."""
    x = _t(tensor)
    if not compute_uv:
        return wrap(torch.linalg.svdvals(x))
    u, s, vh = torch.linalg.svd(x, full_matrices=full_matrices)
    return wrap(s), wrap(u), wrap(vh.transpose(-1, -2).conj())


def qr(input, full_matrices=False, name=None):
    q, r = torch.linalg.qr(_t(input), mode="complete" if full_matrices else "reduced")
    return wrap(q), wrap(r)


def eigh(tensor, name=None):
    e, v = torch.linalg.eigh(_t(tensor))
    return wrap(e), wrap(v)


def pinv(a, rcond=None, validate_args=False, name=None):
    return wrap(torch.linalg.pinv(_t(a), rtol=rcond))


def band_part(input, num_lower, num_upper, name=None):
    x = to_tensor(input)
    m, n = x.shape[-2], x.shape[-1]
    i = torch.arange(m, device=x.device).unsqueeze(-1)
    j = torch.arange(n, device=x.device)
    keep = torch.ones(m, n, dtype=torch.bool, device=x.device)
    if int(num_lower) >= 0:
        keep &= (i - j) <= int(num_lower)
    if int(num_upper) >= 0:
        keep &= (j - i) <= int(num_upper)
    return wrap(torch.where(keep, x, torch.zeros_like(x)))


def lstsq(matrix, rhs, l2_regularizer=0.0, fast=True, name=None):
    a, b = _pair(matrix, rhs)
    if l2_regularizer:
        n = a.shape[-1]
        gram = a.transpose(-1, -2) @ a + float(l2_regularizer) * torch.eye(n, dtype=a.dtype, device=a.device)
        return wrap(torch.linalg.solve(gram, a.transpose(-1, -2) @ b))
    return wrap(torch.linalg.lstsq(a, b).solution)
