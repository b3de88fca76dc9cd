"""Lesson tooling: build `lessons/` from `solutions/` (the grader lives in course.exercises)."""
from course.notebooks.builder import (HEADER, LESSONS, NAME_RE, SOLUTIONS, BuildResult, build_all, build_notebook,
                                      build_text, check_lessons, find_root)
from course.notebooks.markers import MarkerError, find_blocks, strip_markers

__all__ = ["HEADER", "LESSONS", "NAME_RE", "SOLUTIONS", "BuildResult", "build_all", "build_notebook", "build_text",
           "check_lessons", "find_root", "MarkerError", "find_blocks", "strip_markers"]
