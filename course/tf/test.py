"""`tf.test`: names only (course.tape.devices)."""
from course.tape.devices import gpu_device_name, is_built_with_cuda, is_gpu_available
from course.tf._unsupported import module_getattr

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "TestCase": "write tests with pytest and numpy.testing (np.testing.assert_allclose).",
})
