"""`tf.autograph`: names only (course.graph.autograph)."""
import types as _types

from course.graph.autograph import ConversionError, do_not_convert, to_code, to_graph
from course.graph.autograph.operators import set_loop_options
from course.tf._unsupported import module_getattr


def set_verbosity(level, alsologtostdout=False):
    """Accepted for compatibility; AutoGraph here logs nothing."""


def trace(*args):
    """`tf.autograph.trace`: prints its arguments while tracing (plain Python print)."""
    print(*args)


experimental = _types.SimpleNamespace(do_not_convert=do_not_convert, set_loop_options=set_loop_options,
    Feature=_types.SimpleNamespace(
    ALL="ALL", AUTO_CONTROL_DEPS="AUTO_CONTROL_DEPS", ASSERT_STATEMENTS="ASSERT_STATEMENTS",
    BUILTIN_FUNCTIONS="BUILTIN_FUNCTIONS", EQUALITY_OPERATORS="EQUALITY_OPERATORS",
    LISTS="LISTS", NAME_SCOPES="NAME_SCOPES"))

__all__ = ["to_code", "to_graph", "do_not_convert", "set_verbosity", "trace", "experimental", "ConversionError"]
__getattr__, __dir__ = module_getattr(__name__, globals())
