"""Group fairness: confusion counts and bootstrap, the audit, per-twin runs, mitigation."""
