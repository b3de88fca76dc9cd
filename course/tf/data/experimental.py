"""`tf.data.experimental`: names only (course.tape.data)."""
from course.tape.data import AUTOTUNE, INFINITE as INFINITE_CARDINALITY, UNKNOWN as UNKNOWN_CARDINALITY, cardinality
from course.tape.data.files import CsvDataset, make_csv_dataset
from course.tape.data.sampling import choose_from_datasets, rejection_resample as _rejection, sample_from_datasets
from course.tape.data.windows import bucket_by_sequence_length as _bucket


def rejection_resample(class_func, target_dist, initial_dist=None, seed=None):
    """The transformation form: `dataset.apply(rejection_resample(...))`."""
    return lambda dataset: _rejection(dataset, class_func, target_dist, initial_dist, seed)


def bucket_by_sequence_length(element_length_func, bucket_boundaries, bucket_batch_sizes, padded_shapes=None,
                              padding_values=None, pad_to_bucket_boundary=False, no_padding=False,
                              drop_remainder=False):
    """The TF 1-style transformation: `dataset.apply(bucket_by_sequence_length(...))`."""
    return lambda dataset: _bucket(dataset, element_length_func, bucket_boundaries, bucket_batch_sizes,
                                   padded_shapes, padding_values, pad_to_bucket_boundary, no_padding,
                                   drop_remainder)
from course.tf._unsupported import module_getattr

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
})
