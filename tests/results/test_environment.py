"""The environment block: the commits recorded are twinaudit's and the audit folder's."""

import subprocess
from pathlib import Path

import pytest

from twinaudit.results.environment import environment

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "twinaudit"


def head(folder: Path) -> str | None:
    completed = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"],
                               capture_output=True, text=True, check=False)
    return completed.stdout.strip() if completed.returncode == 0 else None


def test_git_sha_is_twinaudits_own_commit_wherever_the_run_starts(tmp_path, monkeypatch):
    audits = tmp_path / "elsewhere"
    audits.mkdir()
    subprocess.run(["git", "init", "-q", str(audits)], check=True)
    (audits / "a.toml").write_text("x")
    subprocess.run(["git", "-C", str(audits), "add", "a.toml"], check=True)
    subprocess.run(["git", "-C", str(audits), "-c", "user.name=t", "-c", "user.email=t@t",
                    "commit", "-q", "-m", "audit"], check=True)
    monkeypatch.chdir(audits)  # the run starts in the audit folder's repository
    block = environment(seeds=[0], frameworks=[], audit_folder=audits)
    assert block["audit_git_sha"] == head(audits) and len(block["audit_git_sha"]) == 40
    # twinaudit's own commit, not the current folder's (None when installed from a wheel).
    assert block["git_sha"] == head(PACKAGE)
    assert block["git_sha"] != block["audit_git_sha"]


def test_an_audit_folder_outside_a_repository_has_no_commit(tmp_path):
    if head(tmp_path) is not None:
        pytest.skip(f"{tmp_path} lies inside a git repository on this machine")
    assert environment(seeds=[0], frameworks=[], audit_folder=tmp_path)["audit_git_sha"] is None
