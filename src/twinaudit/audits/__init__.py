"""The twin audits that are not fairness or attribution: the parity proof (it builds and steps
fresh twins to compare the frameworks), the counterfactual identity test of text twins, and
the twin-vs-twin seed-noise rule the other audits share. Each returns plain, JSON-ready data."""
