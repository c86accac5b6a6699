"""Audits: functions that take predictions (never a model object) and return plain data."""
