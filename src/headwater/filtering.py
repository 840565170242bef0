"""Event filtering for event source mappings (EventBridge pattern language).

``compile_pattern(pattern)`` compiles an EventBridge pattern into a :class:`Matcher`;
``compile_filter_criteria(criteria, source)`` compiles a mapping's ``FilterCriteria`` into a
:class:`RecordFilter` whose ``keep(record)`` decides whether a record reaches the function.
See docs/filtering.md.
"""

from headwater.core.filtering import (
    InvalidPatternError,
    Matcher,
    RecordFilter,
    compile_filter_criteria,
    compile_pattern,
)

__all__ = [
    "InvalidPatternError",
    "Matcher",
    "RecordFilter",
    "compile_filter_criteria",
    "compile_pattern",
]
