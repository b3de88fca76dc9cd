"""`tf.TensorShape`: a tuple of dimensions, where a dimension may be unknown (`None`).

An eager tensor's `.shape` is a `TensorShape` too, so TensorFlow code such as
`x.shape.as_list()`, `x.shape.rank` and `x.shape[1:].num_elements()` works, while torch, which
accepts any tuple of ints as a size, still reads it.

A graph tensor knows its shape before anything runs, with `None` for a dimension only known at
run time (the batch size of a placeholder). Ops check their inputs' shapes when they are created,
so a mismatch fails where the graph is built, naming the op and both shapes; the helpers below
(`broadcast`, `shape_error`, and the ways TF prints a shape) serve those checks:

    Dimensions must be equal, but are 3 and 4 for 'MatMul' (op: 'MatMul') with input shapes: [?,3], [4,1].
"""
__all__ = ["TensorShape", "as_shape", "shape_text", "brackets", "tf1_str", "broadcast",
           "shape_error", "dims_error", "unknown",
           "same_or_unknown"]


class TensorShape(tuple):
    """Dimensions as a tuple (ints or None); `TensorShape(None)` has unknown rank."""

    def __new__(cls, dims=()):
        if isinstance(dims, TensorShape):
            return dims
        if dims is None:
            obj = super().__new__(cls, ())
            obj._unknown_rank = True
            return obj
        if isinstance(dims, int):
            dims = (dims,)
        obj = super().__new__(cls, (None if d is None else int(getattr(d, "value", d)) for d in dims))
        obj._unknown_rank = False
        return obj

    # --- TensorFlow's API ----------------------------------------------------------------------
    @property
    def rank(self):
        return None if self._unknown_rank else len(self)

    ndims = rank

    @property
    def dims(self):
        return None if self._unknown_rank else list(self)

    def as_list(self):
        if self._unknown_rank:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return list(self)

    def num_elements(self):
        if not self.is_fully_defined():
            return None
        n = 1
        for d in self:
            n *= d
        return n

    def is_fully_defined(self):
        return not self._unknown_rank and all(d is not None for d in self)

    def is_compatible_with(self, other):
        other = as_shape(other)
        if self._unknown_rank or other._unknown_rank:
            return True
        return len(self) == len(other) and all(a is None or b is None or a == b for a, b in zip(self, other))

    def merge_with(self, other):
        other = as_shape(other)
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {other} are not compatible.")
        if self._unknown_rank:
            return other
        if other._unknown_rank:
            return self
        return TensorShape([a if a is not None else b for a, b in zip(self, other)])

    def concatenate(self, other):
        other = as_shape(other)
        if self._unknown_rank or other._unknown_rank:
            return TensorShape(None)
        return TensorShape(tuple(self) + tuple(other))

    def with_rank(self, rank):
        if not self._unknown_rank and len(self) != rank:
            raise ValueError(f"Shape {self} must have rank {rank}.")
        return self if not self._unknown_rank else TensorShape([None] * rank)

    def assert_is_compatible_with(self, other):
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {as_shape(other)} are incompatible.")

    # --- tuple behaviour with TF's twists ------------------------------------------------------
    def __getitem__(self, key):
        item = tuple.__getitem__(self, key)
        return TensorShape(item) if isinstance(key, slice) else item

    def __eq__(self, other):
        if isinstance(other, list):
            other = tuple(other)
        if isinstance(other, TensorShape) and (self._unknown_rank or other._unknown_rank):
            return False
        return tuple.__eq__(self, other)

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = tuple.__hash__

    def __repr__(self):
        return "TensorShape(None)" if self._unknown_rank else f"TensorShape({list(self)})"

    def __str__(self):
        if self._unknown_rank:
            return "<unknown>"
        return "(" + ", ".join(str(d) for d in self) + ("," if len(self) == 1 else "") + ")"

    def __reduce__(self):
        return (TensorShape, (None if self._unknown_rank else tuple(self),))


def as_shape(shape) -> TensorShape:
    """A `TensorShape` from a TensorShape, a tuple/list, an int, a torch.Size or None."""
    return shape if isinstance(shape, TensorShape) else TensorShape(shape)


def shape_text(shape) -> str:
    """'(2, 3)', '(5,)', '()' -- how TF2 prints a shape in reprs (an unknown dimension reads None)."""
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def brackets(shape) -> str:
    """'[?,3]' -- how TF's shape functions print a shape; '?' for an unknown rank."""
    shape = as_shape(shape)
    if shape.rank is None:
        return "?"
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


def tf1_str(shape) -> str:
    """'(?, 2)' -- how TF1 printed a TensorShape."""
    shape = as_shape(shape)
    if shape.rank is None:
        return "<unknown>"
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def unknown():
    return TensorShape(None)


def shape_error(op, message, shapes=None):
    """ValueError in TF's format: "<message> for 'name' (op: 'Type') with input shapes: [..], [..]."."""
    shapes = [t.shape for t in op.inputs] if shapes is None else shapes
    with_shapes = f" with input shapes: {', '.join(brackets(s) for s in shapes)}" if shapes else ""
    return ValueError(f"{message} for '{op.name}' (op: '{op.type}'){with_shapes}.")


def dims_error(op, a, b, shapes=None):
    return shape_error(op, f"Dimensions must be equal, but are {a} and {b}", shapes)


def broadcast(op, a, b):
    """The static shape of `a (op) b` under numpy broadcasting; raises TF's error when impossible."""
    a, b = as_shape(a), as_shape(b)
    if a.rank is None or b.rank is None:
        return unknown()
    n = max(len(a), len(b))
    da, db = [1] * (n - len(a)) + list(a), [1] * (n - len(b)) + list(b)
    out = []
    for x, y in zip(da, db):
        if x == 1:
            out.append(y)
        elif y == 1:
            out.append(x)
        elif x is None or y is None:
            out.append(x if y is None else y)      # a known dim > 1 wins; both unknown stay unknown
        elif x == y:
            out.append(x)
        else:
            raise dims_error(op, x, y, [a, b])
    return TensorShape(out)


def same_or_unknown(a, b) -> bool:
    """True when two static shapes are provably equal (same rank, every dimension known and equal)."""
    a, b = as_shape(a), as_shape(b)
    return a.is_fully_defined() and b.is_fully_defined() and tuple(a) == tuple(b)
