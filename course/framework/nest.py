"""`tf.nest`: flatten and rebuild nested structures of tuples, lists, dicts and namedtuples.

As in TensorFlow, dicts flatten in sorted-key order and rebuild with the same keys; anything else
(tensors, arrays, numbers, None) is a leaf.
"""
__all__ = ["is_nested", "flatten", "pack_sequence_as", "map_structure", "assert_same_structure"]


def is_nested(structure) -> bool:
    return isinstance(structure, (list, tuple, dict))


def _children(structure):
    if isinstance(structure, dict):
        return [structure[k] for k in sorted(structure, key=_sort_key)]
    return list(structure)


def _sort_key(key):
    return (str(type(key)), key) if not isinstance(key, (int, float)) else ("", key)


def flatten(structure, expand_composites=False) -> list:
    """The leaves of `structure`, depth first (dicts by sorted key)."""
    if not is_nested(structure):
        return [structure]
    out = []
    for child in _children(structure):
        out.extend(flatten(child))
    return out


def _rebuild(structure, leaves, pos):
    if not is_nested(structure):
        return leaves[pos], pos + 1
    items = []
    for child in _children(structure):
        item, pos = _rebuild(child, leaves, pos)
        items.append(item)
    if isinstance(structure, dict):
        keys = sorted(structure, key=_sort_key)
        return (dict(zip(keys, items)) if type(structure) is dict else type(structure)(zip(keys, items))), pos
    if hasattr(type(structure), "_fields"):        # namedtuple
        return type(structure)(*items), pos
    return type(structure)(items), pos


def pack_sequence_as(structure, flat_sequence, expand_composites=False):
    """Rebuild `structure` with the leaves of `flat_sequence`, in `flatten`'s order."""
    flat_sequence = list(flat_sequence)
    n = len(flatten(structure))
    if n != len(flat_sequence):
        raise ValueError(f"Structure has {n} leaves but flat_sequence has {len(flat_sequence)} elements.")
    return _rebuild(structure, flat_sequence, 0)[0]


def map_structure(func, *structures, **kwargs):
    """Apply `func` leaf-wise across structures of the same shape; returns that structure."""
    if not structures:
        raise ValueError("map_structure needs at least one structure.")
    for other in structures[1:]:
        assert_same_structure(structures[0], other)
    flats = [flatten(s) for s in structures]
    return pack_sequence_as(structures[0], [func(*leaves) for leaves in zip(*flats)])


def _shape_of(structure):
    if not is_nested(structure):
        return None
    if isinstance(structure, dict):
        return ("dict", tuple(sorted(structure, key=_sort_key)),
                tuple(_shape_of(structure[k]) for k in sorted(structure, key=_sort_key)))
    return ("seq", len(structure), tuple(_shape_of(c) for c in structure))


def assert_same_structure(nest1, nest2, check_types=True, expand_composites=False):
    if _shape_of(nest1) != _shape_of(nest2):
        raise ValueError(f"The two structures don't have the same nested structure.\n\nFirst structure: "
                         f"{nest1!r:.200}\n\nSecond structure: {nest2!r:.200}")
