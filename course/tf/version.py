"""`tf.version`: the TensorFlow version whose semantics course.tf follows, plus course's own."""
from course import __version__ as _course_version

VERSION = f"2.16.0+course.{_course_version}"
GIT_VERSION = f"course-{_course_version}"
COMPILER_VERSION = "none (PyTorch)"
