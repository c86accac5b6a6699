"""The twins' speed and accuracy suite that ``twinaudit bench`` runs (pytest-benchmark).

It ships inside the package, so ``twinaudit bench`` works from an installed twinaudit outside
any checkout; :mod:`twinaudit.benchmarks.fixtures` holds the settings and fixtures that the
repository's own ``benchmarks/`` suites share with it.
"""
