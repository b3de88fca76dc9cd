"""Keras 3 preprocessing / augmentation layers against real Keras: deterministic cases within 1e-5,
random cases by their rules (inference passes through, training draws within the range)."""
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity

from course.tf import keras as ckeras  # noqa: E402

RNG = np.random.default_rng(0)
IMG = RNG.random((2, 6, 6, 3)).astype(np.float32)
RECT = RNG.random((2, 5, 7, 1)).astype(np.float32)
U8 = (RNG.random((2, 4, 4, 3)) * 255).astype(np.uint8)
FEATS = RNG.normal(3.0, 2.0, (50, 4)).astype(np.float32)

CASES = {
    "rescaling": (lambda k: k.layers.Rescaling(1 / 255), U8, {}),
    "rescaling_offset": (lambda k: k.layers.Rescaling(1 / 127.5, offset=-1), U8, {}),
    "resizing": (lambda k: k.layers.Resizing(4, 5), IMG, {}),
    "resizing_nearest": (lambda k: k.layers.Resizing(9, 3, interpolation="nearest"), IMG, {}),
    "resizing_crop_aspect": (lambda k: k.layers.Resizing(3, 6, crop_to_aspect_ratio=True), IMG, {}),
    "normalization_given": (lambda k: k.layers.Normalization(mean=[1.0, 2.0, 3.0, 4.0],
                                                             variance=[1.0, 4.0, 9.0, 0.0]), FEATS, {}),
    "normalization_invert": (lambda k: k.layers.Normalization(mean=[1.0, 2.0, 3.0, 4.0],
                                                              variance=[1.0, 4.0, 9.0, 16.0], invert=True), FEATS, {}),
    "rotation_quarter": (lambda k: k.layers.RandomRotation((0.25, 0.25)), IMG, {"training": True}),
    "rotation_reflect": (lambda k: k.layers.RandomRotation((0.1, 0.1)), RECT, {"training": True}),
    "rotation_constant": (lambda k: k.layers.RandomRotation((-0.07, -0.07), fill_mode="constant", fill_value=0.5),
                          RECT, {"training": True}),
    "rotation_nearest": (lambda k: k.layers.RandomRotation((0.13, 0.13), interpolation="nearest",
                                                           fill_mode="nearest"), RECT, {"training": True}),
    "zoom_in": (lambda k: k.layers.RandomZoom((-0.3, -0.3)), RECT, {"training": True}),
    "zoom_out_constant": (lambda k: k.layers.RandomZoom((0.4, 0.4), (0.2, 0.2), fill_mode="constant"), RECT,
                          {"training": True}),
    "translation": (lambda k: k.layers.RandomTranslation((0.2, 0.2), (-0.3, -0.3)), RECT, {"training": True}),
    "brightness_fixed": (lambda k: k.layers.RandomBrightness((0.1, 0.1)), U8.astype(np.float32), {"training": True}),
    "brightness_unit_range": (lambda k: k.layers.RandomBrightness((-0.2, -0.2), value_range=(0, 1)), IMG,
                              {"training": True}),
    "contrast_identity": (lambda k: k.layers.RandomContrast((0.0, 0.0)), U8.astype(np.float32), {"training": True}),
    "contrast_inference": (lambda k: k.layers.RandomContrast(0.5), IMG, {"training": False}),
    "flip_inference": (lambda k: k.layers.RandomFlip(), IMG, {"training": False}),
    "rotation_inference": (lambda k: k.layers.RandomRotation(0.2), IMG, {"training": False}),
    "crop_inference": (lambda k: k.layers.RandomCrop(4, 4), IMG, {"training": False}),
    "crop_upscale": (lambda k: k.layers.RandomCrop(8, 9), IMG, {"training": True}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_layer_as_keras(case):
    make, x, kwargs = CASES[case]
    ref = np.asarray(make(keras)(x, **kwargs))
    got = np.asarray(make(ckeras)(x, **kwargs))
    assert got.shape == ref.shape and got.dtype == ref.dtype
    np.testing.assert_allclose(got, ref, atol=1e-5, rtol=1e-5)


def test_normalization_adapt_matches_keras():
    layers = [keras.layers.Normalization(), ckeras.layers.Normalization()]
    for layer in layers:
        layer.adapt(FEATS)
    np.testing.assert_allclose(np.asarray(layers[1].mean), np.asarray(layers[0].mean), atol=1e-5)
    np.testing.assert_allclose(np.asarray(layers[1].variance), np.asarray(layers[0].variance), atol=1e-4)
    np.testing.assert_allclose(np.asarray(layers[1](FEATS)), np.asarray(layers[0](FEATS)), atol=1e-5)
    ds_layer = ckeras.layers.Normalization(axis=None)
    from course import tf
    ds_layer.adapt(tf.data.Dataset.from_tensor_slices(FEATS).batch(8))
    assert abs(float(np.asarray(ds_layer.mean).reshape(-1)[0]) - FEATS.mean()) < 1e-4


def test_random_layers_in_training_keep_their_rules():
    flipped = np.asarray(ckeras.layers.RandomFlip("horizontal", seed=1)(IMG, training=True))
    for i in range(2):
        assert np.allclose(flipped[i], IMG[i]) or np.allclose(flipped[i], IMG[i][:, ::-1])
    crop = np.asarray(ckeras.layers.RandomCrop(4, 3, seed=2)(IMG, training=True))
    assert crop.shape == (2, 4, 3, 3)
    assert any(np.allclose(crop, IMG[:, t:t + 4, l:l + 3]) for t in range(3) for l in range(4))
    rot = np.asarray(ckeras.layers.RandomRotation(0.1, seed=3)(IMG, training=True))
    assert rot.shape == IMG.shape and not np.allclose(rot, IMG)
    direct = np.asarray(ckeras.layers.RandomRotation(0.1, seed=3)(IMG))       # Keras 3: a direct call augments
    assert not np.allclose(direct, IMG)


def test_augmentation_in_a_sequential_model_trains():
    model = ckeras.Sequential([ckeras.Input((6, 6, 3)), ckeras.layers.RandomFlip("horizontal"),
                               ckeras.layers.RandomRotation(0.1), ckeras.layers.Rescaling(2.0),
                               ckeras.layers.Flatten(), ckeras.layers.Dense(2)])
    model.compile("adam", ckeras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(IMG, np.array([0, 1]), epochs=1, verbose=0)
    out = model.predict(IMG, verbose=0)
    assert out.shape == (2, 2)


def test_wrap_fill_mode_is_refused_clearly():
    with pytest.raises(NotImplementedError, match="reflect"):
        ckeras.layers.RandomRotation(0.1, fill_mode="wrap")


def test_random_contrast_draws_within_keras_range():
    x = U8.astype(np.float32)
    out = np.asarray(ckeras.layers.RandomContrast(0.3, seed=5)(x, training=True))
    mean = x.mean(axis=(1, 2), keepdims=True)
    c = ((out - mean) / np.where(x - mean == 0, 1, x - mean))[..., 0, 0, 0]       # the factor of each image
    assert np.all((c >= 1.0 - 1e-4) & (c <= 1.3 + 1e-4))                          # Keras 3: [1, 1 + 0.3]
    assert out.min() >= 0 and out.max() <= 255
    with pytest.raises(ValueError, match="in the range"):
        ckeras.layers.RandomContrast(1.5)


def _augmenting_model(k):
    return k.Sequential([k.Input((8, 8, 3)), k.layers.Rescaling(1 / 255), k.layers.RandomFlip("horizontal"),
                         k.layers.RandomRotation(0.1), k.layers.RandomZoom(0.1), k.layers.RandomTranslation(0.1, 0.1),
                         k.layers.RandomContrast(0.2), k.layers.RandomBrightness(0.1, value_range=(0, 1)),
                         k.layers.RandomCrop(6, 6), k.layers.Resizing(4, 4), k.layers.Normalization(mean=[0.5] * 3,
                                                                variance=[0.25] * 3),
                         k.layers.Flatten(), k.layers.Dense(2)])


@pytest.mark.parametrize("writer", ["keras", "course"])
def test_models_with_these_layers_cross_both_ways(tmp_path, writer):
    import contextlib
    import io
    x = (RNG.random((2, 8, 8, 3)) * 255).astype(np.float32)
    src, dst = (keras, ckeras) if writer == "keras" else (ckeras, keras)
    model = _augmenting_model(src)
    path = str(tmp_path / "aug.keras")
    model.save(path)
    loaded = dst.models.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)), np.asarray(model.predict(x, verbose=0)),
                               atol=1e-4)
    texts = []
    for m in (model, loaded):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            m.summary()
        texts.append(out.getvalue())
    assert texts[0] == texts[1]
