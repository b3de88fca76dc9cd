"""`tf.image`: augmentation and conversion ops on channels-last images (course.tape.image)."""
from course.tape.image_files import decode_image, decode_jpeg, decode_png, encode_png
from course.tape.image import (ResizeMethod, adjust_brightness, adjust_contrast, adjust_gamma, central_crop,
                               convert_image_dtype, crop_to_bounding_box, flip_left_right, flip_up_down,
                               grayscale_to_rgb, pad_to_bounding_box, per_image_standardization, random_brightness,
                               random_contrast, random_crop, random_flip_left_right, random_flip_up_down, resize,
                               resize_with_crop_or_pad, rgb_to_grayscale, rot90, stateless_random_brightness,
                               stateless_random_contrast, stateless_random_crop, stateless_random_flip_left_right,
                               stateless_random_flip_up_down, transpose, rgb_to_hsv, hsv_to_rgb, adjust_saturation,
                               adjust_hue, random_saturation, random_hue, stateless_random_saturation,
                               stateless_random_hue)
from course.graph import dispatch as _dispatch
from course.tf._unsupported import module_getattr

_dispatch.wrap_namespace(globals(), "image.")   # inside tf.function: no graph form, so it runs eagerly

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "resize_with_pad": "Use tf.image.resize(..., preserve_aspect_ratio=True) then resize_with_crop_or_pad.",
})
