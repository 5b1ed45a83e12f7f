"""mathcore: a GIL-free Cython sum with a pure-Python twin (`mathcore.twin`)."""

from . import twin
from ._core import build_info, do_math, do_math_parallel, do_math_threaded

__all__ = ["build_info", "do_math", "do_math_parallel", "do_math_threaded", "twin"]
