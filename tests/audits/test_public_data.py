"""The twin proof on public tabular data nobody here tuned for, through the generic CSV entry.

COMPAS (ProPublica's file, when the shared copy lies beside the repository), and two data
sets that scikit-learn ships (diabetes, breast cancer): each audited with both frameworks
and three seeds, the parity verdict must pass and the default gate must pass the run
against itself. A proof that held only on Adult would be no proof.
"""

import sys

import pytest

from helpers import COMPAS_CSV, PUBLIC_TABULAR, write_public_audit


def run_main(monkeypatch, capsys, *arguments) -> tuple[int, str, str]:
    from twinaudit import cli

    monkeypatch.setattr(sys, "argv", ["twinaudit", *arguments])
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    captured = capsys.readouterr()
    return stopped.value.code, captured.out, captured.err


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PUBLIC_TABULAR))
def test_public_data_passes_the_proof_and_gates_itself(name, tmp_path, monkeypatch, capsys):
    if name == "compas" and not COMPAS_CSV.is_file():
        pytest.skip(f"ProPublica's COMPAS file is not at {COMPAS_CSV} (it is not shipped: "
                    "its licence is not stated)")
    import json

    audit = write_public_audit(name, tmp_path)
    status, out, err = run_main(monkeypatch, capsys, "run", str(audit), "--quiet")
    assert status == 0, err
    results_path = tmp_path / "reports" / name / "results.json"
    parity = json.loads(results_path.read_text())["parity"]
    assert parity["verdict"]["passed"], parity["verdict"]["text"]
    assert parity["proof"]["passed"] and parity["chaos"]["inside"]
    status, out, err = run_main(monkeypatch, capsys, "gate", str(results_path), "--baseline",
                                str(results_path))
    assert status == 0, out + err
    assert "gate PASSED" in out
