"""`tf.linalg`: names only (course.tape.linalg)."""
from course.tape.linalg import (band_part, cholesky, det, diag, diag_part, eigh, einsum, eye, inv, l2_normalize, logdet,
                                lstsq, matmul, matrix_transpose, matvec, norm, pinv, qr, set_diag, slogdet, solve, svd,
                                tensordot, trace)
from course.tape.math_ops import global_norm
from course.tf._unsupported import module_getattr

adjoint = matrix_transpose

__getattr__, __dir__ = module_getattr(__name__, globals())
