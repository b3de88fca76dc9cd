"""tf.image against real TensorFlow: deterministic ops compared within 1e-5, random ops by their rules."""
import os

import numpy as np
import pytest

import course.tf as ctf

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
TF = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.parity

RNG = np.random.default_rng(0)
IMG = RNG.random((2, 5, 6, 3)).astype(np.float32)
U8 = (RNG.random((5, 6, 3)) * 255).astype(np.uint8)

CASES = {
    "flip_lr": lambda m: m.image.flip_left_right(IMG),
    "flip_ud_3d": lambda m: m.image.flip_up_down(IMG[0]),
    "transpose": lambda m: m.image.transpose(IMG),
    "rot90": lambda m: m.image.rot90(IMG),
    "rot90_k3": lambda m: m.image.rot90(IMG[0], k=3),
    "resize_up": lambda m: m.image.resize(IMG, [8, 9]),
    "resize_down": lambda m: m.image.resize(IMG, [3, 4]),
    "resize_nearest": lambda m: m.image.resize(IMG, [7, 4], method="nearest"),
    "resize_uint8": lambda m: m.image.resize(U8, [3, 3]),
    "resize_aspect": lambda m: m.image.resize(IMG, [10, 10], preserve_aspect_ratio=True),
    "central_crop": lambda m: m.image.central_crop(IMG, 0.5),
    "central_crop_3d": lambda m: m.image.central_crop(IMG[0], 0.7),
    "crop_box": lambda m: m.image.crop_to_bounding_box(IMG, 1, 2, 3, 3),
    "pad_box": lambda m: m.image.pad_to_bounding_box(IMG, 1, 2, 7, 9),
    "crop_or_pad": lambda m: m.image.resize_with_crop_or_pad(IMG, 4, 9),
    "crop_or_pad_odd": lambda m: m.image.resize_with_crop_or_pad(IMG[0], 8, 3),
    "brightness": lambda m: m.image.adjust_brightness(IMG, 0.2),
    "brightness_uint8": lambda m: m.image.adjust_brightness(U8, 0.1),
    "contrast": lambda m: m.image.adjust_contrast(IMG, 2.0),
    "contrast_uint8": lambda m: m.image.adjust_contrast(U8, 0.5),
    "gamma": lambda m: m.image.adjust_gamma(IMG, 2.0, 0.5),
    "to_float": lambda m: m.image.convert_image_dtype(U8, m.float32),
    "to_uint8": lambda m: m.image.convert_image_dtype(IMG, m.uint8),
    "to_uint8_saturate": lambda m: m.image.convert_image_dtype(IMG * 2 - 0.5, m.uint8, saturate=True),
    "uint8_to_int32": lambda m: m.image.convert_image_dtype(U8, m.int32),
    "standardize": lambda m: m.image.per_image_standardization(IMG),
    "standardize_uint8": lambda m: m.image.per_image_standardization(U8),
    "grayscale": lambda m: m.image.rgb_to_grayscale(IMG),
    "rgb_to_hsv": lambda m: m.image.rgb_to_hsv(IMG),
    "hsv_roundtrip": lambda m: m.image.hsv_to_rgb(m.image.rgb_to_hsv(IMG)),
    "saturation": lambda m: m.image.adjust_saturation(IMG, 3.0),
    "saturation_low": lambda m: m.image.adjust_saturation(IMG, 0.3),
    "saturation_uint8": lambda m: m.image.adjust_saturation(U8, 2.0),
    "hue": lambda m: m.image.adjust_hue(IMG, 0.2),
    "hue_negative": lambda m: m.image.adjust_hue(IMG, -0.45),
    "gray_to_rgb": lambda m: m.image.grayscale_to_rgb(m.image.rgb_to_grayscale(IMG)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_image_op_as_tensorflow(case):
    ref, got = CASES[case](TF), CASES[case](ctf)
    assert ctf.as_dtype(got.dtype).name == ref.dtype.name and tuple(got.shape) == tuple(ref.shape)
    np.testing.assert_allclose(got.numpy().astype(np.float64), ref.numpy().astype(np.float64), atol=1e-5,
                               rtol=1e-5)


def test_random_ops_keep_tf_rules():
    ctf.random.set_seed(0)
    x = ctf.constant(IMG)
    crop = ctf.image.random_crop(x, [2, 3, 3, 3])
    assert crop.shape == (2, 3, 3, 3)
    flipped = ctf.image.random_flip_left_right(x, seed=1).numpy()
    for i in range(2):                                   # each image: either as it was or mirrored
        assert np.allclose(flipped[i], IMG[i]) or np.allclose(flipped[i], IMG[i][:, ::-1])
    a = ctf.image.stateless_random_flip_up_down(x, seed=(1, 2)).numpy()
    b = ctf.image.stateless_random_flip_up_down(x, seed=(1, 2)).numpy()
    np.testing.assert_array_equal(a, b)
    bright = ctf.image.random_brightness(x, 0.2).numpy() - IMG
    assert np.allclose(bright, bright.flat[0]) and abs(bright.flat[0]) <= 0.2
    c = ctf.image.stateless_random_contrast(x, 0.5, 1.5, seed=(3, 4)).numpy()
    np.testing.assert_array_equal(c, ctf.image.stateless_random_contrast(x, 0.5, 1.5, seed=(3, 4)).numpy())


def test_unsupported_resize_method_says_what_works():
    with pytest.raises(NotImplementedError, match="bilinear"):
        ctf.image.resize(IMG, [3, 3], method="bicubic")


def test_image_ops_inside_tf_function_match():
    outs = []
    for m in (TF, ctf):
        @m.function
        def f(x):
            return m.image.resize(m.image.flip_left_right(x), [3, 4]) * 2.0
        outs.append(f(m.constant(IMG)).numpy())
    np.testing.assert_allclose(outs[1], outs[0], atol=1e-5)


def test_read_and_decode_image_files_as_tensorflow(tmp_path):
    from PIL import Image
    img = (RNG.random((5, 7, 3)) * 255).astype(np.uint8)
    Image.fromarray(img).save(tmp_path / "a.png")
    Image.fromarray(img[..., 0]).save(tmp_path / "g.png")
    Image.fromarray(img).save(tmp_path / "b.jpg", quality=95)
    got = {}
    for m in (TF, ctf):
        raw = m.io.read_file(str(tmp_path / "a.png"))
        gray = m.io.read_file(str(tmp_path / "g.png"))
        got[m] = (str(raw.dtype), raw.shape.as_list(), m.io.decode_png(raw).numpy(), m.io.decode_png(gray).numpy(),
                  m.image.decode_png(gray, channels=3).numpy(),
                  m.io.decode_jpeg(m.io.read_file(str(tmp_path / "b.jpg"))).numpy().astype(int),
                  m.io.decode_image(raw, dtype=m.float32).numpy(),
                  sorted(m.data.Dataset.list_files(str(tmp_path / "*.png")).as_numpy_iterator()),
                  repr(m.data.Dataset.list_files(str(tmp_path / "*.png"), shuffle=False)),
                  m.io.decode_png(m.io.encode_png(img)).numpy())
    ref, ours = got[TF], got[ctf]
    assert ours[0] == ref[0] and ours[1] == ref[1] and ours[7] == ref[7] and ours[8] == ref[8]
    for k in (2, 3, 4, 9):
        np.testing.assert_array_equal(ours[k], ref[k])
    np.testing.assert_allclose(ours[6], ref[6], atol=1e-6)
    assert ours[5].shape == ref[5].shape and np.abs(ours[5] - ref[5]).mean() < 5      # JPEG decoders differ a little


def test_list_files_without_a_match_is_an_error(tmp_path):
    with pytest.raises(ctf.errors.InvalidArgumentError, match="No files matched pattern"):
        ctf.data.Dataset.list_files(str(tmp_path / "*.none"))
