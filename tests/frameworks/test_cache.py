"""The twin cache: a rerun loads unchanged twins, any changed input retrains exactly the twins
it affects, and what a cached run reports is what the trained run reported."""

from __future__ import annotations

import json

import numpy as np
import pytest

from twinaudit.frameworks.cache import cache_key, fingerprint

from helpers import without_run_specifics, write_small_audit


def _run(audit, tmp_path, **options):
    from twinaudit.pipeline import run_audit
    from twinaudit.spec import load_spec

    outcome = run_audit(load_spec(audit), output_dir=tmp_path / "out",
                        models_dir=tmp_path / "models", **options)
    return json.loads(outcome.results_path.read_text())


def _audit(tmp_path, seeds: str, section: str):
    """A small Adult audit with one more TOML section; its path and its text."""
    audit = write_small_audit(tmp_path, seeds=seeds)
    text = audit.read_text().replace("[attribution]", f"{section}\n\n[attribution]")
    audit.write_text(text)
    return audit, text


def _statuses(results) -> dict:
    found = {(twin["framework"], twin["seed"]): twin["cache"] for twin in results["twins"]}
    for twin in results.get("mitigation", {}).get("reweighing", {}).get("twins", []):
        found[("reweighed", twin["framework"], twin["seed"])] = twin["cache"]
    return found


def test_the_key_changes_with_every_input_and_only_with_them():
    base = {"seed": 0, "data": fingerprint(np.zeros((3, 2), np.float32)), "threads": 1}
    assert cache_key(base) == cache_key(dict(reversed(base.items())))  # order does not count
    for change in ({"seed": 1}, {"threads": 2},
                   {"data": fingerprint(np.zeros((3, 2), np.float64))},  # dtype counts
                   {"data": fingerprint(np.zeros((2, 3), np.float32))}):  # shape counts
        assert cache_key({**base, **change}) != cache_key(base), change
    one_ulp = np.nextafter(np.float32(0), np.float32(1))
    assert fingerprint(np.array([0], np.float32)) != fingerprint(np.array([one_ulp]))
    assert fingerprint(None) != fingerprint(np.array([]))


def _tiny(tmp_path, *, dropout=0.0, hidden=(4,)):
    """A trained torch twin on 40 random rows, its training inputs and a cache over tmp_path."""
    from twinaudit.frameworks import twin_class
    from twinaudit.frameworks.cache import TrainingInputs, TwinCache
    from twinaudit.frameworks.schedule import Schedule
    from twinaudit.nets import MLPNetwork

    random = np.random.default_rng(0)
    X, y = random.normal(size=(40, 3)).astype(np.float32), random.integers(0, 2, 40)
    network, schedule = MLPNetwork(n_inputs=3, hidden=hidden, dropout=dropout), Schedule(epochs=2)
    inputs = TrainingInputs(network, schedule, 0, "torch", 1, fingerprint(X, y), None)
    twin = twin_class("torch")(network, schedule, random_state=0).fit(X, y, validation=(X, y))
    return twin, inputs, TwinCache(tmp_path / "old", tmp_path / "new"), X


def test_a_stored_twin_loads_as_it_was_and_a_foreign_entry_is_a_miss(tmp_path):
    from twinaudit.frameworks import twin_class

    twin, inputs, cache, X = _tiny(tmp_path)
    cache.store(twin, inputs)
    assert twin.history_["cache"] == "miss"
    (tmp_path / "new").rename(tmp_path / "old")  # as the next run finds it
    loaded = cache.load(twin_class("torch"), inputs)
    assert loaded is not None and loaded.history_["cache"] == "hit"
    np.testing.assert_array_equal(loaded.forward(X), twin.forward(X))
    for kept, original in zip(loaded.history_["snapshots"], twin.history_["snapshots"],
                              strict=True):
        assert kept.keys() == original.keys()
        assert all(np.array_equal(kept[name], original[name]) for name in kept)
    # Another network's weights under this key (a planted or stale file) are a miss, not a
    # crash inside a framework.
    other, *_ = _tiny(tmp_path / "other", hidden=(5,))
    entry = next((tmp_path / "old").glob("*.npz"))
    np.savez(entry, **{f"final/{name}": value for name, value in other.get_weights().items()})
    assert cache.load(twin_class("torch"), inputs) is None


def test_a_network_with_dropout_is_never_cached(tmp_path):
    # Dropout masks come from the framework's unseeded generator: a stored twin would stand
    # for one random draw, not for its inputs.
    from twinaudit.frameworks import twin_class

    twin, inputs, cache, _ = _tiny(tmp_path, dropout=0.5)
    cache.store(twin, inputs)
    assert twin.history_["cache"] == "off" and not (tmp_path / "new").exists()
    assert cache.load(twin_class("torch"), inputs) is None


@pytest.mark.slow
def test_a_rerun_loads_every_twin_and_reports_the_same_numbers(tmp_path, monkeypatch):
    import twinaudit.pipeline as pipeline
    import twinaudit.variants as variants

    computed = []
    for module, name in ((variants, "submit_parity_audit"), (pipeline, "run_attribution")):
        original = getattr(module, name)

        def counted(*args, _original=original, _name=name, **kwargs):
            computed.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)
    audit, text = _audit(tmp_path, "[0, 1]", "[mitigation]\nthreshold_optimizer = false")
    cold = _run(audit, tmp_path)
    assert set(_statuses(cold).values()) == {"miss"}
    assert len(_statuses(cold)) == 8  # 2 frameworks x 2 seeds, unweighted and reweighed
    # Two parity audits (baseline, reweighed) and one attribution audit.
    assert sorted(computed) == ["run_attribution", "submit_parity_audit", "submit_parity_audit"]
    computed.clear()
    warm = _run(audit, tmp_path)
    assert set(_statuses(warm).values()) == {"hit"}
    assert computed == []  # every section read from the cache
    assert without_run_specifics(warm) == without_run_specifics(cold)
    report = (tmp_path / "out" / "report.html").read_text()
    assert report.count("loaded (trained in an earlier run)") == 4  # the twin table's rows
    # The entries a run used are what the models folder keeps: 8 twins, 2 files each, and
    # the three sections.
    entries = [path.name for path in (tmp_path / "models" / "cache").iterdir()]
    assert len(entries) == 16 + 3
    assert sum(name.startswith("section-") for name in entries) == 3

    # Another attribution setting: the twins still load, the sections are computed again.
    audit.write_text(text.replace("n_rows = 200", "n_rows = 150"))
    assert set(_statuses(_run(audit, tmp_path)).values()) == {"hit"}
    assert sorted(computed) == ["run_attribution", "submit_parity_audit", "submit_parity_audit"]
    audit.write_text(text)

    # One more seed trains that seed's twins only (unweighted and reweighed).
    audit.write_text(text.replace("seeds = [0, 1]", "seeds = [0, 1, 2]"))
    more = _statuses(_run(audit, tmp_path))
    assert {key for key, status in more.items() if status == "miss"} == {
        ("torch", 2), ("keras", 2), ("reweighed", "torch", 2), ("reweighed", "keras", 2)}

    # --no-cache trains everything and says so.
    off = _run(audit, tmp_path, use_cache=False)
    assert set(_statuses(off).values()) == {"off"}


@pytest.mark.slow
def test_a_changed_setting_or_a_damaged_entry_retrains(tmp_path):
    audit, text = _audit(tmp_path, "[0]", "[audits]\nmitigation = false")
    _run(audit, tmp_path)
    audit.write_text(text.replace("epochs = 2", "epochs = 3"))
    assert set(_statuses(_run(audit, tmp_path)).values()) == {"miss"}
    # A truncated entry is a miss (the cache only saves time), never an error.
    entries = sorted((tmp_path / "models" / "cache").glob("*.npz"))
    assert len(entries) == 2
    entries[0].write_bytes(entries[0].read_bytes()[:100])
    statuses = _statuses(_run(audit, tmp_path))
    assert sorted(statuses.values()) == ["hit", "miss"]
