"""Image and file bytes: `tf.io.read_file`/`write_file`, `decode_png`/`decode_jpeg`/`decode_image`/
and `encode_png` (`tf.data.Dataset.list_files` is in course.tape.data.files).

Files are read into string tensors (course.tape.string_tensor); images decode with Pillow into uint8
HWC tensors as TF's decoders return them. PNG pixels are exact; JPEG decoders may differ from
TF's libjpeg settings by a few grey levels (chroma upsampling). GIF animation, 16-bit PNG and BMP's
`decode_bmp` extras are not supported.
"""
import io

import numpy as np
import torch

from course.tape.string_tensor import StringTensor
from course.tape.tensor import to_numpy, to_tensor, wrap
from course.framework.convert import as_plain

__all__ = ["read_file", "write_file", "decode_png", "decode_jpeg", "decode_image", "encode_png"]


def _bytes(contents, what):
    if isinstance(contents, StringTensor):
        if contents._array.ndim != 0:
            raise ValueError(f"{what} takes one encoded image (a scalar string); got shape {contents.shape}.")
        return contents._array[()]
    if isinstance(contents, (bytes, bytearray)):
        return bytes(contents)
    raise TypeError(f"{what} takes the file's bytes (tf.io.read_file(path)); got {type(contents).__name__}.")


def _path(filename):
    if isinstance(filename, StringTensor):
        filename = filename._array[()]
    return filename.decode() if isinstance(filename, bytes) else str(filename)


def read_file(filename, name=None):
    """The whole file as a scalar string tensor; a missing file raises TF's NotFoundError."""
    from course.framework.errors import NotFoundError
    path = _path(filename)
    try:
        with open(path, "rb") as f:
            return StringTensor(np.array(f.read(), dtype=object))
    except FileNotFoundError:
        raise NotFoundError(None, None, f"{path}; No such file or directory [Op:ReadFile]") from None


def write_file(filename, contents, name=None):
    with open(_path(filename), "wb") as f:
        f.write(_bytes(contents, "tf.io.write_file"))


def _decode(data, channels, what):
    from PIL import Image
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except Exception as exc:
        from course.framework.errors import InvalidArgumentError
        raise InvalidArgumentError(None, None, f"{what}: the bytes are not a decodable image ({exc}).") from None
    mode = {0: None, 1: "L", 3: "RGB", 4: "RGBA"}[int(channels)]
    if mode is None:
        mode = {"L": "L", "LA": "LA", "RGB": "RGB", "RGBA": "RGBA", "P": "RGBA" if "transparency" in img.info
                else "RGB", "1": "L", "I;16": "L"}.get(img.mode, "RGB")
    if mode == "L" and img.format == "PNG" and img.mode in ("RGB", "RGBA", "P"):
        # TF's PNG decoder: libpng's grey with 0.299/0.587 as 15-bit integers, truncated (Pillow rounds)
        rgb = np.asarray(img.convert("RGB"), dtype=np.uint32)
        arr = ((9797 * rgb[..., 0] + 19234 * rgb[..., 1] + 3737 * rgb[..., 2]) >> 15).astype(np.uint8)
    else:
        arr = np.asarray(img.convert(mode), dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[..., None]
    return wrap(torch.from_numpy(arr.copy()))


def decode_png(contents, channels=0, dtype=None, name=None):
    return _decode(_bytes(contents, "tf.io.decode_png"), channels, "decode_png")


def decode_jpeg(contents, channels=0, ratio=1, fancy_upscaling=True, try_recover_truncated=False,
                acceptable_fraction=1, dct_method="", name=None):
    return _decode(_bytes(contents, "tf.io.decode_jpeg"), channels, "decode_jpeg")


def decode_image(contents, channels=None, dtype=None, name=None, expand_animations=True):
    """PNG, JPEG, GIF (first frame) or BMP; `dtype=tf.float32` scales to [0, 1] as TF does."""
    out = _decode(_bytes(contents, "tf.io.decode_image"), channels or 0, "decode_image")
    if dtype is not None:
        from course.tape.image import convert_image_dtype
        out = convert_image_dtype(out, dtype)
    return out


def encode_png(image, compression=-1, name=None):
    from PIL import Image
    arr = to_numpy(as_plain(to_tensor(image))).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr).save(buf, format="PNG")
    return StringTensor(np.array(buf.getvalue(), dtype=object))

