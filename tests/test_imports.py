"""`import twinaudit`, `twinaudit --help` and `import twinaudit.attribution` must not import a
deep-learning framework."""

import subprocess
import sys

from twinaudit.vocabulary import FRAMEWORKS

#: Every framework of the registry, and the Keras backend.
HEAVY = ("tensorflow", *FRAMEWORKS)

CHECK = """
import sys
{statement}
loaded = sorted(name for name in {heavy!r} if name in sys.modules)
print("LOADED:" + ",".join(loaded))
"""


def run_python(statement: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", CHECK.format(statement=statement, heavy=HEAVY)],
        capture_output=True, text=True, check=True, timeout=120)
    (line,) = [line for line in completed.stdout.splitlines() if line.startswith("LOADED:")]
    return line.removeprefix("LOADED:")


def test_import_twinaudit_loads_no_framework():
    assert run_python("import twinaudit, twinaudit.spec, twinaudit.gate") == ""


def test_help_loads_no_framework():
    statement = (
        "from twinaudit import cli\n"
        "try:\n"
        "    cli.app(['--help'], standalone_mode=False)\n"
        "except SystemExit:\n"
        "    pass\n"
    )
    assert run_python(statement) == ""


def test_the_check_itself_sees_a_framework():
    # Guards the two tests above against passing vacuously.
    assert run_python("import torch") == "torch"


def test_importing_attribution_loads_no_framework():
    code = ("import sys, twinaudit.attribution\n"
            "print(sorted(m for m in ('torch', 'tensorflow', 'keras', 'captum', 'shap') "
            "if m in sys.modules))")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               check=True, timeout=120)
    assert completed.stdout.strip() == "[]"
