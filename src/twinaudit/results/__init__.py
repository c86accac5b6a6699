"""results.json: the single, versioned source that reports, comparisons and gates read.

:mod:`~twinaudit.results.schema` describes its sections and their insides,
:mod:`~twinaudit.results.validate` enforces that schema, :mod:`~twinaudit.results.io` is the
one reader (which validates) and the atomic writers, :mod:`~twinaudit.results.environment`
the environment block.
"""

from twinaudit.results.environment import environment
from twinaudit.results.io import check_results, read_results, to_json, write_atomic, write_results
from twinaudit.results.schema import (
    REQUIRED_SECTIONS,
    RESULTS_KIND,
    SCHEMA_VERSION,
    SECTION_TABLE,
    SECTIONS,
    json_schema,
)
from twinaudit.results.validate import validate_results

__all__ = ["REQUIRED_SECTIONS", "RESULTS_KIND", "SCHEMA_VERSION", "SECTIONS", "SECTION_TABLE",
           "check_results", "environment", "json_schema", "read_results", "to_json",
           "validate_results", "write_atomic", "write_results"]
