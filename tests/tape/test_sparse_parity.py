"""tf.sparse basics as TF's tensor guide shows them, against real TensorFlow (printed text compared)."""
import os

import pytest

import course.tf as ctf

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
TF = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity


def _st(m):
    return m.sparse.SparseTensor(indices=[[0, 0], [1, 2]], values=[1, 2], dense_shape=[3, 4])


CASES = {
    "repr": lambda m: _st(m),
    "shape_dtype": lambda m: (_st(m).shape.as_list(), str(_st(m).dtype)),
    "to_dense": lambda m: m.sparse.to_dense(_st(m)),
    "to_dense_default": lambda m: m.sparse.to_dense(_st(m), default_value=-1),
    "from_dense": lambda m: m.sparse.from_dense(m.constant([[0.0, 1.0], [2.0, 0.0]])),
    "reorder": lambda m: m.sparse.reorder(m.sparse.SparseTensor([[1, 0], [0, 1]], [5.0, 6.0], [2, 2])),
    "add_sparse": lambda m: m.sparse.add(_st(m), _st(m)),
    "add_dense": lambda m: m.sparse.add(_st(m), m.ones([3, 4], m.int32)),
    "reduce_sum": lambda m: (m.sparse.reduce_sum(_st(m)), m.sparse.reduce_sum(_st(m), axis=1)),
    "matmul": lambda m: m.sparse.sparse_dense_matmul(m.sparse.SparseTensor([[0, 0], [1, 2]], [1.0, 2.0], [2, 3]),
                                                     m.ones([3, 2])),
    "scale": lambda m: _st(m) * 2,
    "transpose": lambda m: m.sparse.transpose(_st(m)),
    "slice": lambda m: m.sparse.slice(_st(m), [0, 0], [2, 3]),
    "retain": lambda m: m.sparse.retain(_st(m), [True, False]),
    "top_level_name": lambda m: m.SparseTensor is m.sparse.SparseTensor,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_sparse_as_tensorflow(case):
    assert repr(CASES[case](ctf)) == repr(CASES[case](TF))


def test_what_is_left_says_what_to_use():
    with pytest.raises(NotImplementedError, match="sparse_dense_matmul"):
        ctf.sparse.matmul
