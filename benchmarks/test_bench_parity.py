"""What the twin proof costs: its share of the default audit's wall time, in one run.

The default audit (``audits/adult.toml``: three seeds, both frameworks, mitigation) runs once
under pytest-benchmark, with the proof's two new parts timed inside that same run: the
arithmetic layers (:func:`twinaudit.audits.proof.prove`, float64 and float32, for every seed
and once for the reweighed twins) and the chaos envelope (one more training run of the
reference twin). Their share of the run's wall time is the figure the target (≤ 10 %) is
about; it counts the whole proof as added, although its float32 half replaces the step-0 and
one-step checks that were there before. Timings are noisy on a shared machine; the share is
a ratio measured side by side.

Run: ``pytest benchmarks/test_bench_parity.py --benchmark-only -s``
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.fixture
def timed_parts(monkeypatch):
    """The proof's parts, wrapped so that the run adds up their time."""
    import twinaudit.audits.parity as parity

    seconds = {"prove_pairs": 0.0, "self_drift": 0.0}
    for name in seconds:
        original = getattr(parity, name)

        def timed(*args, _original=original, _name=name, **kwargs):
            started = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                seconds[_name] += time.perf_counter() - started

        monkeypatch.setattr(parity, name, timed)
    return seconds


def test_the_proof_share_of_the_default_audit(benchmark, timed_parts, tmp_path):
    from twinaudit.pipeline import run_audit
    from twinaudit.spec import load_spec

    spec = load_spec(REPOSITORY / "audits" / "adult.toml")
    benchmark.pedantic(run_audit, args=(spec,), kwargs={
        "output_dir": tmp_path / "out", "models_dir": tmp_path / "models"},
        rounds=1, iterations=1)
    total = benchmark.stats.stats.median
    share = (timed_parts["prove_pairs"] + timed_parts["self_drift"]) / total
    benchmark.extra_info.update({
        "audit_seconds": total, "proof_seconds": timed_parts["prove_pairs"],
        "chaos_envelope_seconds": timed_parts["self_drift"], "proof_share": share,
        "target_share": 0.10})
    print(f"\ndefault audit {total:.1f} s; arithmetic proof {timed_parts['prove_pairs']:.1f} s, "
          f"chaos envelope {timed_parts['self_drift']:.1f} s: {share:.1%} of the run")
    assert timed_parts["prove_pairs"] > 0 and timed_parts["self_drift"] > 0
