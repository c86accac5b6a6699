"""The audit definition: a TOML file, validated into frozen dataclasses.

``load_spec(path)`` reads and validates one; the sections (``AuditSpec.data``,
``.network``, ``.training`` ...) are plain frozen dataclasses. This package is a leaf: it
imports nothing from twinaudit but its vocabulary and errors.
"""

from twinaudit.spec.load import SpecError, load_spec, spec_from_dict
from twinaudit.spec.sections import (
    SECTIONS,
    AttributionSection,
    AuditSection,
    AuditSpec,
    AuditsSection,
    BenchmarksSection,
    DataSection,
    FairnessSection,
    MitigationSection,
    NetworkSection,
    ParitySection,
    PrivacySection,
    TrainingSection,
)

__all__ = ["SECTIONS", "AttributionSection", "AuditSection", "AuditSpec", "AuditsSection",
           "BenchmarksSection", "DataSection", "FairnessSection", "MitigationSection",
           "NetworkSection", "ParitySection", "PrivacySection", "SpecError", "TrainingSection",
           "load_spec", "spec_from_dict"]
