"""What each report section shows, computed from results.json as plain data for the template.

One module per section. Each ``*_section`` function takes the results (the whole dict, or the
part its section reads) and returns the section's view, or ``None`` when the run has no data
for it (the template then leaves the section out). Reading is defensive: a missing or
reshaped field leaves a dash, never a crash, because results files of older and newer runs
are re-rendered with this code. Helpers more than one view needs live in ``_common``.
"""

from twinaudit.report.views.attribution import attribution_section
from twinaudit.report.views.benchmarks import benchmarks_section
from twinaudit.report.views.counterfactual import counterfactual_section
from twinaudit.report.views.data import data_section
from twinaudit.report.views.environment import environment_section
from twinaudit.report.views.fairness import fairness_section, task_notes
from twinaudit.report.views.implementations import implementations_matrix
from twinaudit.report.views.mitigation import mitigation_section
from twinaudit.report.views.model_card import model_card_section
from twinaudit.report.views.parity import parity_section
from twinaudit.report.views.privacy import privacy_section
from twinaudit.report.views.verdict import verdict_section

__all__ = ["attribution_section", "benchmarks_section", "counterfactual_section",
           "data_section", "environment_section", "fairness_section", "implementations_matrix",
           "mitigation_section",
           "model_card_section", "parity_section", "privacy_section", "task_notes",
           "verdict_section"]
