"""EventBridge event patterns and Lambda FilterCriteria: validation, compilation, matching.

Pure logic (no I/O, no clock). The public entry points are re-exported by
:mod:`headwater.filtering`.
"""

from headwater.core.filtering.criteria import RecordFilter, compile_filter_criteria
from headwater.core.filtering.matcher import Matcher, compile_pattern
from headwater.core.filtering.parser import InvalidPatternError

__all__ = [
    "InvalidPatternError",
    "Matcher",
    "RecordFilter",
    "compile_filter_criteria",
    "compile_pattern",
]
