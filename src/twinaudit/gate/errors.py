"""The gate's error and verdict types, imported by every other gate module."""

from __future__ import annotations

import enum

from twinaudit.errors import InputError

#: An input to the gate is unusable: a file, a rule or a document's schema. The message is one
#: line naming the file, rule or path and what was expected; the command line exits with 2.
#: It is the package's InputError, so the results reader (twinaudit.results.read_results, the
#: one reader of results documents) raises the same class for the gate and for every command.
GateInputError = InputError


class Verdict(enum.StrEnum):
    """The outcome of one check."""

    PASS = "pass"
    FAIL = "fail"
    # A timing check whose interval straddles the limit: the data cannot tell, and saying
    # so is more honest than passing silently.
    INCONCLUSIVE = "inconclusive"
    # A failure of a rule with ``severity = "warn"``: reported, but does not fail the gate.
    WARN = "warn"
    # An optional rule (``required = false``) whose value is absent.
    SKIPPED = "skipped"
