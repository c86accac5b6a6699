"""The suite's fixtures (see :mod:`twinaudit.benchmarks.fixtures`)."""

from twinaudit.benchmarks.fixtures import *  # noqa: F403 - fixtures are found by name
