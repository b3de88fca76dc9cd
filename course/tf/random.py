"""`tf.random`: names only (course.tape.random). `tf.random.set_seed` seeds torch (not numpy, as TF)."""
from course.tape.random import categorical, normal, set_global_seed as set_seed, shuffle, truncated_normal, uniform
from course.graph import dispatch as _dispatch
from course.tf._unsupported import module_getattr

_dispatch.wrap_namespace(globals(), "random.")

__getattr__, __dir__ = module_getattr(__name__, globals(), hints={
    "Generator": "use tf.random.set_seed and the tf.random.* functions with seed=...",
    "stateless_normal": "use tf.random.normal(shape, seed=...).",
    "stateless_uniform": "use tf.random.uniform(shape, seed=...).",
})
