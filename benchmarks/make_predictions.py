"""Write a partitioned prediction table for the scale benchmark: ``n_files`` parquet files of
``rows_per_file`` rows each (label, score, sex, race), seeded per file, so the same command
always writes the same table.

    python benchmarks/make_predictions.py FOLDER [--rows-per-file N] [--files K]

The score is a noisy function of the label with a group-dependent shift, so the groups differ
(the audit has disparities to find); sex has 2 groups and race 5, their intersection 10.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SEXES = np.array(["Female", "Male"])
RACES = np.array(["Asian", "Black", "Hispanic", "Other", "White"])
RACE_SHARES = [0.05, 0.2, 0.15, 0.05, 0.55]


def write_partition(path: Path, rows: int, seed: int) -> None:
    random = np.random.default_rng(seed)
    sex = random.integers(0, 2, rows)
    race = random.choice(len(RACES), rows, p=RACE_SHARES)
    label = (random.random(rows) < 0.25 + 0.1 * sex).astype(np.int8)
    logit = 2.0 * label - 1.0 + 0.3 * sex - 0.2 * (race == 1) + random.normal(0, 1.2, rows)
    score = (1 / (1 + np.exp(-logit))).astype(np.float32)
    table = pa.table({
        "label": label, "score": score,
        "sex": pa.DictionaryArray.from_arrays(pa.array(sex, pa.int8()), pa.array(SEXES)),
        "race": pa.DictionaryArray.from_arrays(pa.array(race, pa.int8()), pa.array(RACES)),
    })
    pq.write_table(table, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rows-per-file", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=100)
    arguments = parser.parse_args()
    arguments.folder.mkdir(parents=True, exist_ok=True)
    for index in range(arguments.files):
        write_partition(arguments.folder / f"part-{index:04d}.parquet",
                        arguments.rows_per_file, seed=index)


if __name__ == "__main__":
    main()
