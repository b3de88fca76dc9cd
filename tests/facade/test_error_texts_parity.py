"""The errors users catch in TF's guides carry TF's message text (our hint may follow it)."""
import os
import re

import pytest

import course.tf as ctf

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
TF = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity

CASES = {
    "reshape": lambda m: m.reshape(m.range(6), [4, 2]),
    "reshape_minus_one": lambda m: m.reshape(m.range(6), [-1, 4]),
    "gather_scalar": lambda m: m.gather(m.constant([1, 2, 3]), 5),
    "gather_vector": lambda m: m.gather(m.constant([[1, 2], [3, 4]]), [0, 2], axis=1),
    "matmul": lambda m: m.matmul(m.ones([2, 3]), m.ones([2, 3])),
    "non_rectangular": lambda m: m.constant([[1, 2], [3]]),
    "convert_dtype": lambda m: m.convert_to_tensor(m.constant([1, 2]), dtype=m.float32),
    "broadcast": lambda m: m.ones([2, 3]) + m.ones([3, 2]),
    "broadcast_mul": lambda m: m.ones([4]) * m.ones([3]),
    "concat": lambda m: m.concat([m.ones([2, 3]), m.ones([2, 2])], axis=0),
    "to_number": lambda m: m.strings.to_number(["1", "x"]),
}


def _core(text):
    """TF's message without the kernel-name prefix and the [Op:...] suffix."""
    text = re.sub(r"^\{\{function_node [^}]*\}\}\s*", "", text)
    return re.sub(r"\s*\[Op:\w+\].*$", "", text, flags=re.S).strip()


@pytest.mark.parametrize("case", sorted(CASES))
def test_error_text_as_tensorflow(case):
    with pytest.raises(Exception) as ref:
        CASES[case](TF)
    with pytest.raises(Exception) as got:
        CASES[case](ctf)
    ref_name = type(ref.value).__name__
    assert type(got.value).__name__ == ref_name
    if ref_name == "InvalidArgumentError":
        assert isinstance(got.value, ctf.errors.InvalidArgumentError)
    assert _core(str(ref.value)) in str(got.value)
