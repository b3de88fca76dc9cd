"""tf.data as TF's guides use it, against real TensorFlow: class names and element_spec as printed,
padded_batch after any transformation, window/flat_map, from_generator with output_signature,
text and CSV files, unbatch, scan, group_by_window, interleave, choose/sample_from_datasets."""
import os

import numpy as np
import pytest

import course.tf as ctf

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
TF = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity


def _ragged_gen():
    for n in [1, 5, 2, 7, 3, 3, 8, 1, 4]:
        yield np.arange(n, dtype=np.int32)


def _ragged(m):
    return m.data.Dataset.from_generator(_ragged_gen, output_signature=m.TensorSpec([None], m.int32))


def _gen():
    for i in range(3):
        yield i, np.ones(i, np.float32)


CASES = {
    "slices": lambda m, d: m.data.Dataset.from_tensor_slices([1, 2, 3]),
    "range_map_batch": lambda m, d: m.data.Dataset.range(7).map(lambda x: x * 2).batch(2),
    "prefetch": lambda m, d: m.data.Dataset.range(7).prefetch(1),
    "cache": lambda m, d: m.data.Dataset.range(7).cache(),
    "drop_remainder": lambda m, d: m.data.Dataset.range(7).batch(2, drop_remainder=True),
    "dict_slices": lambda m, d: m.data.Dataset.from_tensor_slices({"a": [1, 2], "b": [[1.0, 2.0], [3.0, 4.0]]}),
    "string_slices": lambda m, d: m.data.Dataset.from_tensor_slices(["a", "b"]),
    "padded_after_map": lambda m, d: m.data.Dataset.range(7).map(lambda x: m.range(x)).padded_batch(3),
    "padded_shapes": lambda m, d: m.data.Dataset.range(7).map(lambda x: (m.range(x), x)).padded_batch(
        2, padded_shapes=([5], []), padding_values=(np.int64(-1), np.int64(0)), drop_remainder=True),
    "padded_after_filter_shuffle": lambda m, d: m.data.Dataset.range(6).filter(lambda x: x > 1).map(
        lambda x: m.fill([x], x)).shuffle(1).padded_batch(2),
    "window": lambda m, d: m.data.Dataset.range(7).window(3, shift=2, drop_remainder=True),
    "window_long_shift": lambda m, d: m.data.Dataset.range(11).window(2, shift=4).flat_map(lambda w: w.batch(2)),
    "window_stride": lambda m, d: m.data.Dataset.range(10).window(3, shift=1, stride=2, drop_remainder=True).flat_map(
        lambda w: w.batch(3)),
    "window_flat_map": lambda m, d: m.data.Dataset.range(7).window(3, shift=2, drop_remainder=True).flat_map(
        lambda w: w.batch(3)),
    "window_tuple": lambda m, d: m.data.Dataset.from_tensor_slices(([1, 2, 3], [4.0, 5.0, 6.0])).window(2).flat_map(
        lambda a, b: m.data.Dataset.zip((a.batch(2), b.batch(2)))),
    "from_generator": lambda m, d: m.data.Dataset.from_generator(_gen, output_signature=(
        m.TensorSpec(shape=(), dtype=m.int32), m.TensorSpec(shape=(None,), dtype=m.float32))),
    "text_lines": lambda m, d: m.data.TextLineDataset(os.path.join(d, "t.txt")),
    "text_lines_map": lambda m, d: m.data.TextLineDataset(os.path.join(d, "t.txt")).map(m.strings.length),
    "csv": lambda m, d: m.data.experimental.CsvDataset(os.path.join(d, "x.csv"), [m.int32, m.float32],
                                                       header=True),
    "csv_defaults": lambda m, d: m.data.experimental.CsvDataset(os.path.join(d, "y.csv"), [[0], [-1.0], ["?"]]),
    "make_csv": lambda m, d: m.data.experimental.make_csv_dataset(os.path.join(d, "x.csv"), batch_size=2,
                                                                  shuffle=False, num_epochs=1),
    "make_csv_label": lambda m, d: m.data.experimental.make_csv_dataset(
        os.path.join(d, "z.csv"), batch_size=3, label_name="y", shuffle=False, num_epochs=1),
    "unbatch": lambda m, d: m.data.Dataset.range(7).batch(3).unbatch(),
    "choose": lambda m, d: m.data.Dataset.choose_from_datasets(
        [m.data.Dataset.from_tensors("a").repeat(), m.data.Dataset.from_tensors("b").repeat()],
        m.data.Dataset.range(2).repeat(3)),
    "scan": lambda m, d: m.data.Dataset.range(7).scan(m.constant(0, m.int64), lambda s, x: (s + x, s * 10)),
    "group_by_window": lambda m, d: m.data.Dataset.range(7).group_by_window(
        lambda x: x % 2, lambda k, ds: ds.batch(2), window_size=2),
    "bucket_by_length": lambda m, d: _ragged(m).bucket_by_sequence_length(
        lambda x: m.shape(x)[0], bucket_boundaries=[3, 6], bucket_batch_sizes=[2, 2, 2]),
    "bucket_to_boundary": lambda m, d: _ragged(m).filter(lambda x: m.shape(x)[0] < 6).bucket_by_sequence_length(
        lambda x: m.shape(x)[0], [3, 6], [2, 2, 3], pad_to_bucket_boundary=True),
    "bucket_apply": lambda m, d: _ragged(m).apply(m.data.experimental.bucket_by_sequence_length(
        lambda x: m.shape(x)[0], [4], [3, 2], drop_remainder=True)),
    "group_window_size_func": lambda m, d: m.data.Dataset.range(9).group_by_window(
        lambda x: x % 3, lambda k, ds: ds.batch(5), window_size_func=lambda k: k + 1),
    "window_ragged_flat_map": lambda m, d: _ragged(m).window(2).flat_map(lambda w: w.padded_batch(2)),
    "interleave": lambda m, d: m.data.Dataset.range(1, 4).interleave(
        lambda x: m.data.Dataset.from_tensors(x).repeat(x), cycle_length=2, block_length=2),
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    (d / "x.csv").write_text("a,b\n1,2.5\n3,4.5\n")
    (d / "y.csv").write_text("1,,x\n,2.5,\n")
    (d / "z.csv").write_text("f,g,y\n1,a,0\n2,b,1\n3,c,0\n4,d,1\n")
    (d / "t.txt").write_text("hello world\nsecond line\n\nlast\n")
    return str(d)


def _values(ds):
    def plain(v):
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, tuple):
            return tuple(plain(x) for x in v)
        return np.asarray(v).tolist()
    return [plain(e) for e in ds.as_numpy_iterator()]


@pytest.mark.parametrize("case", sorted(CASES))
def test_dataset_as_tensorflow(case, folder):
    ref, got = CASES[case](TF, folder), CASES[case](ctf, folder)
    assert repr(got) == repr(ref)
    if case != "window":
        assert _values(got) == _values(ref)


def test_window_elements_are_datasets():
    out = []
    for m in (TF, ctf):
        out.append([[int(y) for y in w] for w in m.data.Dataset.range(7).window(3)])
    assert out[1] == out[0] == [[0, 1, 2], [3, 4, 5], [6]]


def test_sample_from_datasets_draws_by_weight():
    a, b = ctf.data.Dataset.range(0, 1000), ctf.data.Dataset.range(1000, 2000)
    ds = ctf.data.Dataset.sample_from_datasets([a, b], weights=[0.8, 0.2], seed=3)
    ref = TF.data.Dataset.sample_from_datasets([TF.data.Dataset.range(3), TF.data.Dataset.range(3)], seed=1)
    assert repr(ds).split(" ")[0] == repr(ref).split(" ")[0] == "<_DirectedInterleaveDataset"
    values = np.array(list(ds.take(1000).as_numpy_iterator()))
    assert 0.74 < np.mean(values < 1000) < 0.86
    assert sorted(values[values < 1000].tolist()) == list(range(int(np.sum(values < 1000))))   # order kept
    assert len(list(ds.as_numpy_iterator())) == 2000


def test_unsupported_names_point_to_alternatives():
    with pytest.raises(NotImplementedError, match="from_tensor_slices"):
        ctf.data.TFRecordDataset


def test_rejection_resample_reaches_the_target_distribution():
    labels = np.array([0] * 900 + [1] * 100, np.int64)
    out = []
    for m in (TF, ctf):
        ds = m.data.Dataset.from_tensor_slices(labels).shuffle(1000, seed=1)
        r = ds.rejection_resample(lambda x: m.cast(x, m.int32), target_dist=[0.5, 0.5], initial_dist=[0.9, 0.1],
                                  seed=2)
        pairs = list(r.as_numpy_iterator())
        out.append((repr(r), np.mean([c for c, _ in pairs]), all(c == e for c, e in pairs)))
    assert out[1][0] == out[0][0] and out[1][2] and out[0][2]
    assert abs(out[1][1] - 0.5) < 0.12
    applied = ctf.data.Dataset.from_tensor_slices(labels).shuffle(1000, seed=4).apply(
        ctf.data.experimental.rejection_resample(lambda x: ctf.cast(x, ctf.int32), [0.5, 0.5], seed=3))
    classes = [c for c, _ in applied.as_numpy_iterator()]
    assert 0.3 < np.mean(classes) < 0.7 and len(classes) > 100


DECODE_CSV = {
    "basic": lambda m: m.io.decode_csv(m.constant(["1,2.5,a", "3,,b"]), record_defaults=[[0], [0.0], [""]]),
    "scalar": lambda m: m.io.decode_csv("7,x", record_defaults=[[0], ["?"]]),
    "select_cols": lambda m: m.io.decode_csv(m.constant(["1,2.5,a", "3,,b"]), [[0], [""]], select_cols=[0, 2]),
    "delim_2d": lambda m: m.io.decode_csv(m.constant([["1;2"], ["3;4"]]), record_defaults=[[0.0], [0]],
                                          field_delim=";"),
    "in_dataset": lambda m: list(m.data.Dataset.from_tensor_slices(["1,a", "2,b"]).map(
        lambda line: m.io.decode_csv(line, [[0], [""]])).as_numpy_iterator()),
}


@pytest.mark.parametrize("case", sorted(DECODE_CSV))
def test_decode_csv_as_tensorflow(case):
    assert repr(DECODE_CSV[case](ctf)) == repr(DECODE_CSV[case](TF))


def test_decode_csv_missing_required_field_is_tfs_error():
    texts = []
    for m in (TF, ctf):
        with pytest.raises(m.errors.InvalidArgumentError) as info:
            m.io.decode_csv(m.constant(["1,,b"]), record_defaults=[m.constant([], m.int32),
                                                                   m.constant([], m.float32), [""]])
        texts.append(info.value.message)
    assert texts[1] in texts[0] and texts[1] == "Field 1 is required but missing in record 0!"
