"""TF1's summary ops: graph ops whose value is a serialized `Summary` protobuf (bytes).

    tf.summary.scalar("loss", loss)              # a ScalarSummary op, added to GraphKeys.SUMMARIES
    tf.summary.histogram("w1", w1)               # a HistogramSummary op
    tf.summary.image("input", x_image, 10)       # an ImageSummary op: up to 10 PNGs
    merged = tf.summary.merge_all()              # one MergeSummary op over the collection
    summary, _ = sess.run([merged, train_step], feed_dict=...)
    writer.add_summary(summary, step)            # tf.summary.FileWriter

The bytes are what TensorFlow 1's kernels produce: a scalar as `simple_value`, a histogram as a
`HistogramProto` over TensorFlow's default bucket limits (±1e-12·1.1^k up to 1e20, and 0), with
runs of empty buckets collapsed as TensorFlow encodes them; images as PNGs, float images scaled one
by one as TensorFlow's kernel does (all >= 0: max -> 255; else 0 -> 128 and the largest magnitude to
127 away), non-finite pixels red. The tag is the op's name, so a name scope prefixes it (and a
`family` twice, as in TensorFlow). The protobuf classes come from the `tensorboard` package, needed
when the ops run.
"""
import numpy as np

from course.framework.shapes import TensorShape
from course.graph.array_ops import convert_to_tensor, make_op
from course.graph.graph import GraphKeys, get_default_graph
from course.graph.registry import NotDifferentiable, register_op
from course.summary import encode_png, tensorboard_modules

__all__ = ["scalar", "histogram", "image", "merge", "merge_all", "STRING", "default_bucket_limits"]

STRING = "string"                # the dtype of a summary op's output (bytes, not a torch tensor)


def _summary_pb2():
    return tensorboard_modules()["summary_pb2"]


def default_bucket_limits() -> np.ndarray:
    """TensorFlow's histogram bucket limits: -DBL_MAX, -1e20..-1e-12, 0, 1e-12..1e20, DBL_MAX."""
    positive = [1e-12]
    while positive[-1] * 1.1 < 1e20:
        positive.append(positive[-1] * 1.1)
    positive.append(np.finfo(np.float64).max)
    return np.array([-v for v in reversed(positive)] + [0.0] + positive)


_LIMITS = default_bucket_limits()


def _summary_output(op):
    return [(TensorShape([]), STRING)]


def _summary_op(op_type, tensor, attrs, name, family, collections):
    """The op, named `[family/]name` in the current scope; its tag is that name, with the family
    put in front once more when there is one (TensorFlow 1's summary_scope does both)."""
    op = make_op(op_type, [tensor], attrs, (family + "/" if family else "") + name)
    op.attrs["tag"] = f"{family}/{op.name}" if family else op.name
    for key in (collections if collections is not None else [GraphKeys.SUMMARIES]):
        op.graph.add_to_collection(key, op.outputs[0])
    return op.outputs[0]


def scalar(name, tensor, collections=None, family=None):
    """A summary of one number: `tensor` must be a scalar. Returns the summary's (bytes) tensor."""
    t = convert_to_tensor(tensor)
    if t.shape.rank not in (None, 0):
        raise ValueError(f"tf.summary.scalar({name!r}) needs a scalar; got shape {t.shape}. Reduce it first "
                         f"(tf.reduce_mean), or log it with tf.summary.histogram.")
    return _summary_op("ScalarSummary", t, {}, name, family, collections)


def histogram(name, values, collections=None, family=None):
    """A summary of the distribution of `values` (any shape)."""
    return _summary_op("HistogramSummary", convert_to_tensor(values), {}, name, family, collections)


def image(name, tensor, max_outputs=3, collections=None, family=None):
    """Up to `max_outputs` images of `tensor` (batch, height, width, 1/3/4 channels; uint8 or float)."""
    t = convert_to_tensor(tensor)
    if t.shape.rank not in (None, 4) or (t.shape.rank == 4 and t.shape[3] not in (None, 1, 3, 4)):
        raise ValueError(f"tf.summary.image({name!r}) needs images of shape (batch, height, width, channels) with "
                         f"1, 3 or 4 channels; got {t.shape}. Reshape flat MNIST rows with "
                         f"tf.reshape(x, [-1, 28, 28, 1]).")
    return _summary_op("ImageSummary", t, {"max_images": int(max_outputs)}, name, family, collections)


def merge(inputs, collections=None, name=None):
    """One summary holding the values of all `inputs` (summary tensors); their tags must differ."""
    inputs = list(inputs)
    if not inputs or any(t.dtype != STRING for t in inputs):
        raise TypeError("tf.summary.merge expects a non-empty list of summary tensors (from tf.summary.scalar, "
                        "histogram or image).")
    out = make_op("MergeSummary", inputs, {}, name or "Merge/MergeSummary").outputs[0]
    for key in collections or ():
        out.op.graph.add_to_collection(key, out)
    return out


def merge_all(key=GraphKeys.SUMMARIES, scope=None, name=None):
    """`merge` over the collection `key` of the default graph; None when it is empty."""
    summaries = get_default_graph().get_collection(key, scope)
    return merge(summaries, name=name) if summaries else None


# -- kernels -------------------------------------------------------------------------------------
def _scalar_kernel(op):
    tag = op.attrs["tag"]

    def kernel(value):
        pb = _summary_pb2()
        return pb.Summary(value=[pb.Summary.Value(tag=tag, simple_value=float(value))]).SerializeToString()
    return kernel


def _histogram_proto(values: np.ndarray, pb):
    """TensorFlow's HistogramProto: counts per default bucket, empty runs collapsed into one."""
    values = values.astype(np.float64).ravel()
    counts = np.bincount(np.searchsorted(_LIMITS, values, side="right"), minlength=len(_LIMITS))[:len(_LIMITS)]
    limits, buckets, i = [], [], 0
    while i < len(_LIMITS):
        end, count = _LIMITS[i], counts[i]
        i += 1
        if count <= 0:
            while i < len(_LIMITS) and counts[i] <= 0:
                end, count = _LIMITS[i], counts[i]
                i += 1
        limits.append(end)
        buckets.append(float(count))
    if values.size == 0:
        return pb.HistogramProto(min=np.finfo(np.float64).max, max=-np.finfo(np.float64).max, num=0, sum=0,
                                 sum_squares=0, bucket_limit=limits, bucket=buckets)
    return pb.HistogramProto(min=values.min(), max=values.max(), num=values.size, sum=values.sum(),
                             sum_squares=np.dot(values, values), bucket_limit=limits, bucket=buckets)


def _histogram_kernel(op):
    tag = op.attrs["tag"]

    def kernel(values):
        pb = _summary_pb2()
        array = values.detach().cpu().double().numpy()
        if not np.isfinite(array).all():
            raise ValueError(f"tf.summary.histogram {tag!r}: the values contain NaN or Inf (did training diverge?).")
        return pb.Summary(value=[pb.Summary.Value(tag=tag, histo=_histogram_proto(array, pb))]).SerializeToString()
    return kernel


def _to_uint8(image: np.ndarray) -> np.ndarray:
    """One (h, w, c) float image as TensorFlow's ImageSummary kernel makes it uint8."""
    image = image.astype(np.float32)
    finite = np.isfinite(image).all(axis=-1)                       # a pixel is bad if any channel is
    seen = image[finite]
    low, high = (float(seen.min()), float(seen.max())) if seen.size else (np.inf, -np.inf)
    if low < 0:
        largest = max(abs(low), abs(high))
        scale, offset = (0.0 if largest < 1e-6 else 127.0 / largest), 128.0
    else:
        scale, offset = (0.0 if high < 1e-6 else 255.0 / high), 0.0
    out = (np.where(finite[..., None], image, 0) * np.float32(scale) + np.float32(offset)).astype(np.uint8)
    out[~finite] = np.array([255, 0, 0, 255], np.uint8)[:image.shape[-1]]   # TF's bad_color: red
    return out


def _image_kernel(op):
    tag, count = op.attrs["tag"], op.attrs["max_images"]

    def kernel(images):
        pb = _summary_pb2()
        array = images.detach().cpu().numpy()
        values = []
        for i in range(min(count, array.shape[0])):
            pixels = array[i] if array.dtype == np.uint8 else _to_uint8(array[i])
            values.append(pb.Summary.Value(
                tag=f"{tag}/image/{i}" if count > 1 else f"{tag}/image",
                image=pb.Summary.Image(height=pixels.shape[0], width=pixels.shape[1], colorspace=pixels.shape[2],
                                       encoded_image_string=encode_png(pixels))))
        return pb.Summary(value=values).SerializeToString()
    return kernel


def _merge_kernel(op):
    def kernel(*serialized):
        pb = _summary_pb2()
        merged, seen = pb.Summary(), set()
        for data in serialized:
            for value in pb.Summary.FromString(data).value:
                if value.tag in seen:
                    raise ValueError(f"Duplicate tag {value.tag} found in summary inputs")
                seen.add(value.tag)
                merged.value.add().CopyFrom(value)
        return merged.SerializeToString()
    return kernel


for _type, _kernel in [("ScalarSummary", _scalar_kernel), ("HistogramSummary", _histogram_kernel),
                       ("ImageSummary", _image_kernel), ("MergeSummary", _merge_kernel)]:
    register_op(_type, infer=_summary_output, kernel=_kernel)
    NotDifferentiable(_type)
