"""TensorFlow's slicing of eager tensors: `getitem` (negative steps too, course.tape.indexing) and
`tf.strided_slice` with its masks.
"""

from course.tape.creation import as_shape_arg
from course.tape.indexing import getitem_plain
from course.tape.tensor import wrap
from course.framework.convert import as_plain

__all__ = ["getitem", "strided_slice"]


def getitem(t, key):
    """`t[key]` as TF: like numpy's basic indexing, negative steps included."""
    return wrap(getitem_plain(as_plain(t), key))


def _bits(mask, i):
    return bool(int(mask) >> i & 1)


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0, new_axis_mask=0,
                  shrink_axis_mask=0, var=None, name=None):
    """`tf.strided_slice`: the key spec i is begin[i]:end[i]:strides[i], changed by the bit i of each mask."""
    begin, end = as_shape_arg(begin, "begin"), as_shape_arg(end, "end")
    strides = as_shape_arg(strides, "strides") if strides is not None else (1,) * len(begin)
    if not len(begin) == len(end) == len(strides):
        raise ValueError(f"begin, end and strides must have the same length; got {len(begin)}, {len(end)} "
                         f"and {len(strides)}.")
    key = []
    for i, (b, e, s) in enumerate(zip(begin, end, strides)):
        if s == 0:
            raise ValueError("strides[%d] must be non-zero" % i)
        if _bits(ellipsis_mask, i):
            key.append(Ellipsis)
        elif _bits(new_axis_mask, i):
            key.append(None)
        elif _bits(shrink_axis_mask, i):
            key.append(b)
        else:
            key.append(slice(None if _bits(begin_mask, i) else b, None if _bits(end_mask, i) else e, s))
    return getitem(input_, tuple(key))
