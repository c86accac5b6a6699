"""Twins with one deliberate fault, importable by a host process (tests/ is on its path: see
conftest.py), so the proof's teeth are shown on a hosted implementation too."""

from __future__ import annotations

import dataclasses

from twinaudit.frameworks.keras.twin import KerasTwin
from twinaudit.frameworks.schedule import Schedule


class LearningRateOffKerasTwin(KerasTwin):
    """The Keras twin with its learning rate 0.1 % off: a settings fault the proof must see."""

    def _build(self, weights):
        schedule = self.schedule or Schedule()
        self.schedule = dataclasses.replace(schedule,
                                            learning_rate=schedule.learning_rate * 1.001)
        try:
            super()._build(weights)
        finally:
            self.schedule = schedule
