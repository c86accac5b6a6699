"""Our adversarial twins beside fairlearn's AdversarialFairnessClassifier (both its backends)
on the default audit's data and network size: accuracy and demographic parity difference by
sex on the test split, by fairlearn's own metrics, per seed.

    python benchmarks/compare_adversarial.py [--seeds 0 1 2] [--alpha 1.0]

Both train the same hidden layers (64, 32, ReLU) for the audit's epochs, batch size and
learning rate, against an adversary of sex for demographic parity. Differences by design:
fairlearn's predictor ends in one sigmoid unit and its adversary reads the predicted
probability; ours keeps the audited twin's two logits and the adversary reads their margin.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--alpha", type=float, default=1.0)
    args = parser.parse_args()

    from fairlearn.adversarial import AdversarialFairnessClassifier
    from fairlearn.metrics import demographic_parity_difference

    from twinaudit.data import load_dataset
    from twinaudit.fairness.adversarial import AdversarialSettings, fit_adversarial
    from twinaudit.frameworks import twin_class
    from twinaudit.frameworks.schedule import Schedule
    from twinaudit.pipeline import network_for
    from twinaudit.spec import load_spec
    from twinaudit.vocabulary import FRAMEWORKS

    spec = load_spec(REPOSITORY / "audits" / "adult.toml")
    dataset = load_dataset(spec)
    network = network_for(spec, dataset)
    schedule = Schedule(**{**vars(Schedule.from_section(spec.training)),
                           "early_stopping": False})
    train, test = dataset.train, dataset.test
    names, groups = np.unique(train.sensitive_features["sex"].to_numpy(str),
                              return_inverse=True)
    sex = test.sensitive_features["sex"].to_numpy(str)

    def figures(predicted: np.ndarray) -> dict[str, float]:
        assert predicted.shape == test.y.shape, predicted.shape
        return {"accuracy": float((predicted == test.y).mean()),
                "dp_difference": float(demographic_parity_difference(
                    test.y, predicted, sensitive_features=sex))}

    rows = []
    for seed in args.seeds:
        for framework in FRAMEWORKS:
            cls = twin_class(framework)
            with cls.thread_limit(1):
                plain = cls(network, schedule, random_state=seed).fit(train.X, train.y)
                ours = fit_adversarial(cls(network, schedule, random_state=seed), train.X,
                                       train.y, groups.reshape(-1),
                                       AdversarialSettings(alpha=args.alpha))
            rows.append({"model": f"twinaudit plain twin ({framework})", "seed": seed,
                         **figures(plain.predict(test.X))})
            rows.append({"model": f"twinaudit adversarial ({framework})", "seed": seed,
                         **figures(ours.predict(test.X))})
        for backend in ("torch", "tensorflow"):
            model = AdversarialFairnessClassifier(
                backend=backend,
                predictor_model=[item for width in network.hidden for item in (width, "relu")],
                adversary_model=[], batch_size=schedule.batch_size, epochs=schedule.epochs,
                learning_rate=schedule.learning_rate, alpha=args.alpha,
                constraints="demographic_parity", random_state=seed)
            model.fit(train.X, train.y, sensitive_features=train.sensitive_features["sex"])
            rows.append({"model": f"fairlearn AdversarialFairnessClassifier ({backend})",
                         # fairlearn predicts a column: (n, 1).
                         "seed": seed, **figures(np.asarray(model.predict(test.X)).reshape(-1))})
    summary: dict[str, dict[str, float]] = {}
    for model_name in dict.fromkeys(row["model"] for row in rows):
        mine = [row for row in rows if row["model"] == model_name]
        summary[model_name] = {key: float(np.mean([row[key] for row in mine]))
                               for key in ("accuracy", "dp_difference")}
    print(json.dumps({"alpha": args.alpha, "seeds": args.seeds, "groups": names.tolist(),
                      "mean_over_seeds": summary, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
