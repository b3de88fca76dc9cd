"""`tf.data.experimental`: names only (course.tape.data)."""
from course.tape.data import AUTOTUNE, INFINITE as INFINITE_CARDINALITY, UNKNOWN as UNKNOWN_CARDINALITY, cardinality
from course.tape.data.files import CsvDataset, make_csv_dataset
from course.tape.data.sampling import choose_from_datasets, sample_from_datasets
from course.tf._unsupported import module_getattr

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "rejection_resample": "Resample with Dataset.sample_from_datasets over per-class datasets (dataset.filter).",
    "bucket_by_sequence_length": "Group with Dataset.group_by_window and pad with padded_batch.",
})
