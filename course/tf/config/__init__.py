"""`tf.config`: names only (course.tape.devices, course.graph.function)."""
from course.tape.devices import (LogicalDevice, PhysicalDevice, get_soft_device_placement, get_visible_devices,
                                 list_logical_devices, list_physical_devices, set_soft_device_placement,
                                 set_visible_devices)
from course.graph.function import functions_run_eagerly, run_functions_eagerly
from course.tf._unsupported import module_getattr
from course.tf.config import experimental, threading


__getattr__, __dir__ = module_getattr(__name__, globals())
