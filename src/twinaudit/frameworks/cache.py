"""A cache of trained twins: a rerun with nothing changed loads its twins instead of training.

Without dropout, a twin's training is a pure function of what goes in: the network spec, the
schedule, the seed, the framework (its package versions, backend, device and default threads),
numpy (it draws the initial weights and the batch order), the float precision, the intra-op
thread count (it can change the order of float sums), the training and validation data, the
sample weights, and twinaudit's own training code. The cache key is the SHA-256 of all of
them, so any change to any input is a miss for exactly the twins it affects: more seeds train
only the new seeds; new sample weights (a mitigation) train only the weighted twins.

Dropout masks come from each framework's own unseeded generator, so a network with dropout is
not a function of its inputs: such twins are never cached (their status is ``off``).

An entry is two files under ``models/<audit>/cache/``: ``<key>.npz`` (the final weights and
the per-epoch weight snapshots the parity audit's chaos envelope reads, in the canonical
numpy layout, read with ``allow_pickle=False``) and ``<key>.json`` (the training history and
what made the key, for a reader). Nothing framework-specific is unpickled: a cached twin is
built by :meth:`Twin.initialize` from the stored arrays, as the chaos envelope builds one.

The cache lives inside the run's models folder, so it is staged and swapped in with the rest
of a run's outputs (:mod:`twinaudit.outputs`): a hit is copied into the new set, a miss is
written there, and entries no twin of the run used are left behind. An unreadable entry is a
miss, never an error: the cache only saves time.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from twinaudit import __version__
from twinaudit.frameworks.base import Twin
from twinaudit.frameworks.schedule import Schedule
from twinaudit.nets import Network, initial_weights, network_to_dict

#: The folder inside a run's models folder that holds the cache.
CACHE_FOLDER = "cache"
#: What ``results.json`` records per twin: loaded from the cache, trained and stored, or
#: trained with the cache switched off (``--no-cache``).
HIT, MISS, OFF = "hit", "miss", "off"
CACHE_STATUSES = (HIT, MISS, OFF)

_FINAL = "final"
#: Where a cached (or cacheable, freshly stored) twin's history keeps its cache key.
KEY = "cache_key"
#: The file name prefix of a cached audit section.
_SECTION = "section-"


@dataclass(frozen=True)
class TrainingInputs:
    """Everything one twin's training reads, as the cache key is made from it."""

    network: Network
    schedule: Schedule
    seed: int
    framework: str
    threads: int
    data_fingerprint: str
    weights_fingerprint: str | None

    @property
    def cacheable(self) -> bool:
        return not self.network.has_dropout

    def description(self, twin_type: type[Twin], precision: str) -> dict[str, Any]:
        return {
            "twinaudit": __version__,
            "training_code": _training_code(),
            "framework": self.framework,
            "packages": {name: _version(name) for name in ("numpy", *twin_type.packages)},
            # The backend (Keras), the device and default thread count (torch).
            "framework_environment": twin_type.environment(),
            "cpu_count": os.cpu_count(),
            "precision": precision,
            "network": {"kind": self.network.kind, **network_to_dict(self.network)},
            "schedule": vars(self.schedule),
            "seed": self.seed,
            "threads": self.threads,
            "data": self.data_fingerprint,
            "sample_weight": self.weights_fingerprint,
        }


def fingerprint(*arrays: np.ndarray | None) -> str:
    """SHA-256 of arrays' dtypes, shapes and bytes (``None`` counts as a marker)."""
    digest = hashlib.sha256()
    for array in arrays:
        if array is None:
            digest.update(b"none;")
            continue
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape};".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def cache_key(description: dict[str, Any]) -> str:
    canonical = json.dumps(description, sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _plain(value: Any) -> Any:
    # numpy scalars (a float32 validation loss) as the Python numbers results.json holds.
    return value.item() if isinstance(value, np.generic) else str(value)


class TwinCache:
    """Reads entries from the committed models folder, writes the run's into its staging one.

    Parameters
    ----------
    read_from : Path or None
        The cache folder of the models folder as it is now (``None`` when the cache is off).
    write_to : Path
        The cache folder in the run's staging models folder.
    """

    def __init__(self, read_from: Path | None, write_to: Path):
        self.read_from = read_from
        self.write_to = write_to

    @property
    def enabled(self) -> bool:
        return self.read_from is not None

    def load(self, twin_type: type[Twin], inputs: TrainingInputs) -> Twin | None:
        """The cached twin for these inputs (its entry copied into the new set), or ``None``."""
        if self.read_from is None or not inputs.cacheable:
            return None
        twin = twin_type(inputs.network, inputs.schedule, random_state=inputs.seed)
        key = cache_key(inputs.description(twin_type, twin.precision))
        entry = self.read_from / f"{key}.npz"
        if not entry.is_file():
            return None
        try:
            history = json.loads(entry.with_suffix(".json").read_text(encoding="utf-8"))
            with np.load(entry, allow_pickle=False) as stored:
                arrays = {name: stored[name] for name in stored.files}
            # Every stored set of weights must be the network's, name for name and shape for
            # shape, before any of it reaches a framework.
            layout = initial_weights(inputs.network, inputs.seed)
            final = _weights(arrays, _FINAL, layout)
            snapshots = [_weights(arrays, f"epoch{index}", layout)
                         for index in range(len(history["epochs"]))]
            twin.initialize(final)
            twin.history_ = {
                "epochs": history["epochs"], "best_epoch": history["best_epoch"],
                "train_seconds": history["train_seconds"], "snapshots": snapshots,
                "cache": HIT, KEY: key}
        except Exception:  # noqa: BLE001 - any unreadable or foreign entry is a miss
            return None
        self.write_to.mkdir(parents=True, exist_ok=True)
        for suffix in (".npz", ".json"):
            shutil.copy2(entry.with_suffix(suffix), self.write_to / f"{key}{suffix}")
        return twin

    def store(self, twin: Twin, inputs: TrainingInputs) -> None:
        """Write a freshly trained twin's entry into the run's new set, and mark it."""
        from twinaudit.results.io import replace_atomically, write_atomic

        cached = self.enabled and inputs.cacheable
        twin.history_["cache"] = MISS if cached else OFF
        if not cached:
            return
        description = inputs.description(type(twin), twin.precision)
        key = cache_key(description)
        twin.history_[KEY] = key
        arrays: dict[str, Any] = {f"{_FINAL}/{name}": value
                                  for name, value in twin.get_weights().items()}
        for index, snapshot in enumerate(twin.history_["snapshots"]):
            arrays.update({f"epoch{index}/{name}": value for name, value in snapshot.items()})
        self.write_to.mkdir(parents=True, exist_ok=True)
        replace_atomically(self.write_to / f"{key}.npz",
                           lambda path: np.savez(path, **arrays), suffix=".npz")
        history = {key_: twin.history_[key_] for key_ in ("epochs", "best_epoch",
                                                          "train_seconds")}
        write_atomic(self.write_to / f"{key}.json",
                     json.dumps({**history, "inputs": description}, indent=1, default=_plain))


class SectionCache:
    """Audit sections (the parity audit, the attribution audit) of cached twins.

    A section computed from twins that all have a cache key is a function of those keys, the
    audit definition, the data and twinaudit's code; a rerun with all of them unchanged reads
    it from ``section-<key>.json`` beside the twins instead of computing it again. Its key is
    the SHA-256 of the section's name and settings, every twin's key, the whole audit
    definition but its name, folders and execution, the data's fingerprint, and the source of
    all of twinaudit (a section reads more than the training code). A section of a twin with
    no key (dropout, or the cache off) is always computed.
    """

    def __init__(self, cache: TwinCache, spec: dict[str, Any], data: str):
        self.cache = cache
        self.spec = {name: value for name, value in spec.items()
                     if name not in ("audit", "source", "execution")}
        self.data = data

    def key(self, name: str, twins: Iterable[Twin], settings: Any = None) -> str | None:
        keys = [twin.history_.get(KEY) for twin in twins]
        if not self.cache.enabled or not keys or None in keys:
            return None
        return cache_key({"section": name, "settings": settings, "twins": sorted(keys),
                          "spec": self.spec, "data": self.data, "twinaudit": __version__,
                          "source": _source_code()})

    def load(self, key: str | None) -> dict[str, Any] | None:
        """The cached section (its file copied into the run's new set), or None."""
        if key is None or self.cache.read_from is None:
            return None
        entry = self.cache.read_from / f"{_SECTION}{key}.json"
        try:
            section = json.loads(entry.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # absent or damaged: a miss
            return None
        if not isinstance(section, dict):
            return None
        self.cache.write_to.mkdir(parents=True, exist_ok=True)
        shutil.copy2(entry, self.cache.write_to / entry.name)
        return section

    def store(self, key: str | None, section: dict[str, Any]) -> None:
        from twinaudit.results.io import write_atomic

        if key is None:
            return
        self.cache.write_to.mkdir(parents=True, exist_ok=True)
        write_atomic(self.cache.write_to / f"{_SECTION}{key}.json",
                     json.dumps(section, default=_plain))


def _weights(arrays: dict[str, np.ndarray], prefix: str,
             layout: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The weights stored under ``prefix``, checked against the network's own layout."""
    weights = {name.split("/", 1)[1]: value for name, value in arrays.items()
               if name.split("/", 1)[0] == prefix}
    # Shapes, not dtypes: the precision is in the key, the layout is float32.
    if {name: value.shape for name, value in weights.items()} != {
            name: value.shape for name, value in layout.items()}:
        raise ValueError(f"{prefix}: not this network's weights")
    return weights


@functools.cache
def _source_code() -> str:
    """SHA-256 of the source of every module of twinaudit."""
    return _digest(Path(__file__).resolve().parents[1].rglob("*.py"))


def _digest(sources: Iterable[Path]) -> str:
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for source in sorted(sources):
        digest.update(source.relative_to(root).as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


@functools.cache
def _training_code() -> str:
    """SHA-256 of the source of everything that trains a twin (twinaudit/frameworks and
    twinaudit/nets): a change to the schedule, a layer or a loss invalidates the cache even
    where the version number stays the same (a checkout between releases)."""
    root = Path(__file__).resolve().parents[1]
    return _digest([*(root / "frameworks").rglob("*.py"), *(root / "nets").rglob("*.py")])


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None
