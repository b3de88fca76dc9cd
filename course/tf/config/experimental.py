"""`tf.config.experimental`: names only (course.tape.devices)."""
from course.tape.devices import (enable_op_determinism, get_memory_growth, get_visible_devices, list_logical_devices,
                                 list_physical_devices, set_memory_growth, set_virtual_device_configuration,
                                 set_visible_devices)
from course.tf._unsupported import module_getattr


set_logical_device_configuration = set_virtual_device_configuration

__getattr__, __dir__ = module_getattr(__name__, globals())
