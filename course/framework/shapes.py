"""`tf.TensorShape`: a tuple of dimensions, where a dimension may be unknown (`None`).

An eager tensor's `.shape` is a `TensorShape` too, so TensorFlow code such as
`x.shape.as_list()`, `x.shape.rank` and `x.shape[1:].num_elements()` works, while torch, which
accepts any tuple of ints as a size, still reads it.
"""
__all__ = ["TensorShape", "as_shape"]


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
