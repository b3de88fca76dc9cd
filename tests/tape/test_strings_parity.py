"""String tensors and tf.strings / tf.ragged basics against real TensorFlow (text compared)."""
import os

import pytest

import course.tf as ctf

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
TF = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity

CASES = {
    "scalar": lambda m: m.constant("héllo"),
    "vector": lambda m: m.constant(["a", "bc"]),
    "bytes_matrix": lambda m: m.constant([[b"a", b"b"], [b"c", b"d"]]),
    "dtype_string": lambda m: m.constant("x", dtype=m.string),
    "shape_fill": lambda m: m.constant("x", shape=[2]),
    "length": lambda m: m.strings.length(["a", "héllo"]),
    "length_chars": lambda m: m.strings.length("héllo", unit="UTF8_CHAR"),
    "split_vector": lambda m: m.strings.split(["a b", "c"]),
    "split_scalar": lambda m: m.strings.split("a b c"),
    "split_sep": lambda m: m.strings.split("a,b,,c", sep=","),
    "join": lambda m: m.strings.join(["a", "b"], separator="-"),
    "join_vectors": lambda m: m.strings.join([m.constant(["a", "b"]), m.constant(["x", "y"])], separator=":"),
    "reduce_join": lambda m: m.strings.reduce_join(["a", "b"], separator="-"),
    "reduce_join_axis": lambda m: m.strings.reduce_join([["a", "b"], ["c", "d"]], axis=1),
    "to_number": lambda m: m.strings.to_number(["1.5", "2"]),
    "to_number_int": lambda m: m.strings.to_number(["7", "-3"], out_type=m.int32),
    "as_string_float": lambda m: m.strings.as_string([1.5, 2.0]),
    "as_string_int": lambda m: m.strings.as_string([1, 2]),
    "as_string_precision": lambda m: m.strings.as_string([3.14159], precision=2),
    "substr": lambda m: m.strings.substr("hello", 1, 3),
    "substr_chars": lambda m: m.strings.substr("héllo", 1, 2, unit="UTF8_CHAR"),
    "regex_replace": lambda m: m.strings.regex_replace("hello world", "o", "0"),
    "regex_groups": lambda m: m.strings.regex_replace(["ab12", "cd3"], r"([a-z]+)(\d+)", r"\2-\1"),
    "regex_first": lambda m: m.strings.regex_replace("aaa", "a", "b", replace_global=False),
    "regex_full_match": lambda m: m.strings.regex_full_match(["abc", "ab1"], "[a-z]+"),
    "unicode_decode": lambda m: m.strings.unicode_decode("héllo", "UTF-8"),
    "unicode_decode_vec": lambda m: m.strings.unicode_decode(["hé", "abc"], "UTF-8"),
    "unicode_encode": lambda m: m.strings.unicode_encode([104, 233], "UTF-8"),
    "unicode_encode_2d": lambda m: m.strings.unicode_encode([[104, 105], [233, 97]], "UTF-8"),
    "unicode_roundtrip": lambda m: m.strings.unicode_encode(m.strings.unicode_decode(["hé", "abc"], "UTF-8"),
                                                            "UTF-8"),
    "unicode_split": lambda m: m.strings.unicode_split("hé", "UTF-8"),
    "bytes_split": lambda m: m.strings.bytes_split("héllo"),
    "bytes_split_vec": lambda m: m.strings.bytes_split(["ab", "c"]),
    "format": lambda m: m.strings.format("x={} y={}", (m.constant(1), m.constant([1.5, 2.0]))),
    "format_long": lambda m: m.strings.format("{}", m.range(10)),
    "upper_lower_strip": lambda m: (m.strings.upper("abc"), m.strings.lower("ABC"), m.strings.strip("  a ")),
    "decode_raw": lambda m: m.io.decode_raw(m.constant(b"\x01\x02\x03\x04"), m.uint8),
    "decode_raw_int16": lambda m: m.io.decode_raw(m.constant([b"\x01\x02\x03\x04", b"\x00\x01\x00\x02"]), m.int16),
    "concat_plus": lambda m: m.constant("ab") + m.constant("cd"),
    "index": lambda m: m.constant(["a", "b", "c"])[1:],
    "equal": lambda m: m.constant(["a", "b"]) == m.constant(["a", "c"]),
    "shape_ops": lambda m: (m.shape(m.constant([["a", "b"]])), m.size(m.constant(["a", "b"])), m.rank(m.constant("a"))),
    "reshape_transpose": lambda m: m.transpose(m.reshape(m.constant(["a", "b", "c", "d"]), [2, 2])),
    "expand_squeeze": lambda m: m.squeeze(m.expand_dims(m.constant(["a", "b"]), 0)),
    "concat_stack": lambda m: (m.concat([m.constant(["a"]), m.constant(["b", "c"])], 0),
                               m.stack([m.constant("a"), m.constant("b")])),
    "unstack": lambda m: m.unstack(m.constant([["a", "b"], ["c", "d"]]), axis=1),
    "gather_strings": lambda m: m.gather(m.constant(["a", "b", "c"]), [2, 0]),
    "tile_reverse": lambda m: (m.tile(m.constant(["a", "b"]), [2]), m.reverse(m.constant(["a", "b"]), [0])),
    "boolean_mask_strings": lambda m: m.boolean_mask(m.constant(["a", "b", "c"]), [True, False, True]),
    "identity_strings": lambda m: m.identity(m.constant(["a"])),
    "ngrams": lambda m: m.strings.ngrams(["a", "b", "c", "d"], 2),
    "ngrams_ragged": lambda m: m.strings.ngrams(m.strings.split(["a b c", "d e"]), 2, separator="-"),
    "ngrams_padded": lambda m: m.strings.ngrams(["a", "b"], 3, pad_values=("<s>", "</s>"), padding_width=1),
    "ngrams_short": lambda m: m.strings.ngrams(["a", "b"], 3, preserve_short_sequences=True),
    "ngrams_widths": lambda m: m.strings.ngrams(["a", "b", "c"], (1, 2)),
    "ragged_constant": lambda m: m.ragged.constant([[1, 2], [3]]),
    "ragged_float": lambda m: m.ragged.constant([[1.5], [], [2.0, 3.0]]),
    "ragged_to_tensor": lambda m: m.ragged.constant([[1, 2], [3]]).to_tensor(),
    "ragged_row_lengths": lambda m: m.ragged.constant([[1, 2], [3]]).row_lengths(),
    "ragged_from_row_lengths": lambda m: m.RaggedTensor.from_row_lengths([1, 2, 3, 4], [3, 0, 1]),
    "ragged_from_row_splits": lambda m: m.RaggedTensor.from_row_splits([1, 2, 3], [0, 2, 3]),
    "ragged_row": lambda m: m.ragged.constant([[1, 2], [3]])[0],
    "ragged_plus_scalar": lambda m: m.ragged.constant([[3, 1, 4, 1], [], [5, 9, 2], [6], []]) + 3,
    "ragged_times_ragged": lambda m: m.ragged.constant([[1, 2], [3]]) * m.ragged.constant([[4, 5], [6]]),
    "ragged_map_flat_values": lambda m: m.ragged.map_flat_values(lambda x: x * 10, m.ragged.constant([[1, 2], [3]])),
    "ragged_column_slice": lambda m: m.ragged.constant([[3, 1, 4, 1], [], [5, 9, 2], [6], []])[:, :2],
    "ragged_row_slice": lambda m: m.ragged.constant([[3, 1, 4, 1], [], [5, 9, 2], [6], []])[1:3],
    "ragged_negate_compare": lambda m: (-m.ragged.constant([[1, 2], [3]]), m.ragged.constant([[1, 2], [3]]) == 1),
    "ragged_float_divide": lambda m: m.ragged.constant([[1.5], [2.0, 3.0]]) / 2,
    "ragged_strings_to_tensor": lambda m: m.strings.split(["a b", "c"]).to_tensor(),
}


def _text(v):
    if isinstance(v, tuple):
        return tuple(_text(x) for x in v)
    return repr(v), str(v)


@pytest.mark.parametrize("case", sorted(CASES))
def test_prints_as_tensorflow(case):
    assert _text(CASES[case](ctf)) == _text(CASES[case](TF))


def test_numpy_gives_bytes_and_shapes_match():
    for m in (TF, ctf):
        s = m.constant("héllo")
        assert s.numpy() == "héllo".encode() and s.dtype == m.string and s.shape == ()
        v = m.constant(["a", "bc"])
        assert v.numpy().tolist() == [b"a", b"bc"] and v.shape.as_list() == [2]
        assert isinstance(v, m.Tensor)
        rt = m.ragged.constant([[1, 2], [3]])
        assert rt.shape.as_list() == [2, None] and rt.to_list() == [[1, 2], [3]]
        assert rt.bounding_shape().numpy().tolist() == [2, 2]


def test_to_number_error_is_tf_text():
    msgs = []
    for m in (TF, ctf):
        with pytest.raises(m.errors.InvalidArgumentError) as info:
            m.strings.to_number(["1", "x"])
        msgs.append(info.value.message)
    assert msgs[1] in msgs[0]


def test_ragged_deeper_nesting_is_refused_clearly():
    with pytest.raises(NotImplementedError, match="one ragged dimension"):
        ctf.ragged.constant([[[1], [2, 3]], [[4]]])


def test_f_strings_show_the_value():
    for m in (TF, ctf):
        assert f"{m.constant([b'a', b'b'])}" == "[b'a' b'b']" and f"{m.constant('x')}" == "b'x'"
