"""The ``twinaudit`` command line. Each command parses, makes one library call, and writes.

Frameworks are imported inside the commands that need them, so ``twinaudit --help`` stays
instant. Every user error (a TwinauditError, the gate's input errors included) and every
operating-system fault on a path becomes one line on stderr and exit status 2 — never a
traceback; anything else is an internal error (exit 70, the traceback in a crash file).
"""

from __future__ import annotations

import logging
import os
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

# typer 0.29 vendors click (pinned in pyproject); its usage errors are these classes.
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.exceptions import Abort

from twinaudit import __version__
from twinaudit.errors import TwinauditError

app = typer.Typer(
    add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    help="Train the same network in PyTorch and Keras under identical settings, then audit "
         "both twins: parity, fairness, attribution, speed.",
)

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")]


@app.command()
def run(
    audit: Annotated[Path, typer.Argument(help="The audit definition (TOML).")] = Path(
        "audits/adult.toml"),
    output_dir: Annotated[Path | None, typer.Option(
        help="Where results go (default: the spec's, reports/<name>).")] = None,
    models_dir: Annotated[Path | None, typer.Option(
        help="Where checkpoints go (default: the spec's, models/<name>).")] = None,
    no_cache: Annotated[bool, typer.Option(
        "--no-cache", help="Train every twin, even those the models folder's cache holds.")
    ] = False,
    workers: Annotated[int | None, typer.Option(
        help="Local Dask worker processes, one thread each (default: [execution] workers, "
             "one per core); 0 runs every task in this process, without Dask.")] = None,
    scheduler: Annotated[str | None, typer.Option(
        help="Run the tasks on the Dask cluster at this scheduler address "
             "(tcp://host:8786).")] = None,
    quiet: Quiet = False,
) -> None:
    """Train the twins (or load unchanged ones from the cache), run the audits, write
    results.json, predictions and the report."""
    from twinaudit.engine import execution
    from twinaudit.errors import InputError
    from twinaudit.pipeline import run_audit
    from twinaudit.progress import task_progress
    from twinaudit.spec import load_spec
    from twinaudit.spec.load import is_scheduler_address

    spec = load_spec(audit)
    if scheduler is not None and not is_scheduler_address(scheduler):
        raise InputError(f"--scheduler: expected a scheduler address such as "
                         f"tcp://host:8786, got {scheduler!r}")
    if workers is not None and workers < 0:
        raise InputError(f"--workers: expected 0 or more, got {workers}")
    run_on = execution(workers, scheduler, spec_workers=spec.execution.workers,
                       spec_scheduler=spec.execution.scheduler,
                       where=f"{spec.source}: [execution].workers")
    with task_progress(enabled=not quiet) as progress:
        outcome = run_audit(spec, output_dir=output_dir, models_dir=models_dir,
                            use_cache=not no_cache, run=run_on,
                            progress=progress,
                            command=shlex.join(["twinaudit", *sys.argv[1:]]),
                            # Data warnings, found before training; --quiet keeps them in
                            # the report only.
                            on_warning=None if quiet else
                            lambda text: typer.echo(f"twinaudit: warning: {text}", err=True))
    verdict = outcome.results.get("parity", {}).get("verdict")
    # The parity verdict in words; a failed proof is said even with --quiet, in capitals, so
    # a CI log shows it (the gate then fails the build on it).
    if verdict is not None and (not quiet or not verdict["passed"]):
        typer.echo(("parity: " if verdict["passed"] else "twinaudit: PARITY ")
                   + verdict["text"], err=True)
    if not quiet:
        from twinaudit.report.views.verdict import quality_warning

        warning = quality_warning(outcome.results)
        if warning is not None:
            typer.echo(f"twinaudit: warning: model quality: {warning}", err=True)
    typer.echo(f"results: {outcome.results_path}", err=True)
    typer.echo(str(outcome.report_path))


@app.command()
def report(
    results: Annotated[Path, typer.Argument(help="A results.json written by twinaudit run.")],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Default: report.html beside the results.")] = None,
) -> None:
    """Re-render the HTML report of a results file."""
    from twinaudit.report import render_report
    from twinaudit.results import read_results, write_atomic

    document = read_results(results)
    path = write_atomic(output or results.with_name("report.html"), render_report(document))
    typer.echo(str(path))


@app.command()
def compare(
    results: Annotated[list[Path], typer.Argument(help="Two or more results.json files.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML file to write.")] = Path(
        "compare.html"),
) -> None:
    """Compare runs side by side: every shared metric, its delta, whether the CIs overlap."""
    from twinaudit.compare import write_comparison

    if len(results) < 2:
        raise TwinauditError("compare needs at least two results files")
    typer.echo(str(write_comparison(results, output)))


@app.command()
def bench(
    audit: Annotated[Path, typer.Argument(help="The audit definition (TOML).")] = Path(
        "audits/adult.toml"),
    profile: Annotated[str, typer.Option(help="quick (CI) or full.")] = "quick",
    suite: Annotated[Path | None, typer.Option(
        help="A benchmark folder holding test_twins.py (default: the packaged suite).")] = None,
    results: Annotated[Path | None, typer.Option(
        help="The results.json to merge into (default: the audit's).")] = None,
    quiet: Quiet = False,
) -> None:
    """Benchmark each twin (one process per framework) and merge into results.json."""
    from twinaudit.bench import run_benchmarks
    from twinaudit.spec import load_spec

    path = run_benchmarks(load_spec(audit), profile=profile, suite=suite, results_path=results,
                          quiet=quiet)
    typer.echo(str(path))


@app.command()
def gate(
    results: Annotated[Path, typer.Argument(help="This run's results.json.")],
    baseline: Annotated[Path | None, typer.Option(help="The baseline results.json.")] = None,
    rules: Annotated[Path | None, typer.Option(
        help="Rules TOML (default: the packaged rule set for the run's kind).")] = None,
    junit: Annotated[Path | None, typer.Option(help="Write JUnit XML here.")] = None,
    markdown: Annotated[Path | None, typer.Option(
        help="Write a Markdown summary here (e.g. $GITHUB_STEP_SUMMARY).")] = None,
    strict: Annotated[bool, typer.Option(help="Treat inconclusive verdicts as failures.")] = False,
) -> None:
    """Judge a run against rules and a baseline: exit 0 pass, 1 regression, 2 bad input."""
    from twinaudit import gate as gating
    from twinaudit.results import write_atomic
    from twinaudit.results.io import check_writable_target

    # The output paths first: a bad one is said before the verdict table, not after it.
    for target in (junit, markdown):
        if target is not None:
            check_writable_target(target)
    document = gating.load_document(results, role="results")
    base = gating.load_document(baseline, role="baseline") if baseline else None
    outcome = gating.evaluate(document, base,
                             gating.load_rules(rules or gating.default_rules_path(document)),
                              inconclusive_fails=strict)
    typer.echo(gating.render_table(outcome))
    if junit:
        gating.write_junit(outcome, junit)
    if markdown:
        write_atomic(markdown, gating.render_markdown(outcome))
    raise typer.Exit(outcome.exit_code)


@app.command()
def baseline(
    results: Annotated[Path, typer.Argument(help="The results.json to promote.")],
    directory: Annotated[Path, typer.Option(help="The baseline folder.")] = Path(
        "reports/baseline"),
) -> None:
    """Promote a run to the committed gate baseline (reports/baseline/<audit>.json)."""
    from twinaudit.gate import promote_baseline

    typer.echo(str(promote_baseline(results, directory)))


@app.command()
def init(
    data: Annotated[Path, typer.Argument(help="The table: a CSV or parquet file.")],
    label: Annotated[str, typer.Option(help="The label column.")],
    positive: Annotated[str | None, typer.Option(
        help="The label value predicted as 1 (default: the minority value).")] = None,
    sensitive: Annotated[list[str] | None, typer.Option(
        help="A sensitive column (repeat for several; default: columns named like sex, "
             "gender, race, age ...).")] = None,
    name: Annotated[str | None, typer.Option(
        help="The audit's name (default: the file's name, made safe).")] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing audits/<name>.toml.")
                     ] = False,
) -> None:
    """Profile a table and write a commented starter audit, audits/<name>.toml."""
    from twinaudit.starter import write_starter

    starter = write_starter(data, label=label, positive=positive, sensitive=sensitive or [],
                            name=name, force=force)
    if starter.positive_note:
        typer.echo(f"positive: '{starter.positive}', {starter.positive_note} (--positive "
                   "chooses)", err=True)
    if starter.sensitive_guessed:
        typer.echo(f"sensitive features: {', '.join(starter.sensitive)}, recognised by name "
                   "(--sensitive chooses)", err=True)
    if starter.warnings:
        typer.echo(f"{len(starter.warnings)} warning(s) about the inputs, written as comments"
                   + (f"; suggested drop_columns: {', '.join(starter.drop_columns)}"
                      if starter.drop_columns else ""), err=True)
    typer.echo(f"run it with: twinaudit run {shlex.quote(str(starter.path))}", err=True)
    typer.echo(str(starter.path))


@app.command()
def schema(
    document: Annotated[str, typer.Argument(
        help="'audit' (audit definitions, for editors) or 'results' (results.json).")],
) -> None:
    """Print the JSON Schema of audit definitions or of results.json."""
    import json

    if document == "audit":
        from twinaudit.spec.json_schema import audit_schema

        typer.echo(json.dumps(audit_schema(), indent=2))
    elif document == "results":
        from twinaudit.results.schema import json_schema

        typer.echo(json.dumps(json_schema(), indent=2))
    else:
        raise TwinauditError(f"schema {document!r}: expected 'audit' or 'results'")


#: The exit status of an internal error (BSD's EX_SOFTWARE): a bug to fix, never bad input.
EXIT_INTERNAL_ERROR = 70


def main() -> None:
    """Console entry point: the one error boundary of every command.

    Exit 0 success, 1 a gate regression (documented), 2 bad input or an environment fault (one
    line naming the file, key or path), 70 an internal error: one line, and the traceback in a
    crash file whose path the line names.
    """
    # Each Keras twin compiles its own train step on purpose; TensorFlow's warning about
    # "many tf.function traces" is not news to a twinaudit user.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:
        # Not standalone: typer's own usage errors come here, to be said in one line.
        status = app(prog_name="twinaudit", standalone_mode=False)
    except NoArgsIsHelpError as error:
        typer.echo(error.format_message(), err=True)
        sys.exit(2)
    except UsageError as error:
        hint = f" (see '{error.ctx.command_path} --help')" if error.ctx is not None else ""
        _fail(f"{_first_line(error.format_message()).rstrip('.')}{hint}", 2)
    except Abort:
        _fail("aborted", 130)
    except TwinauditError as error:
        _fail(str(error), 2)
    except OSError as error:
        # The environment, not the input's content: a path that cannot be read or written.
        _fail(describe_os_error(error), 2)
    except Exception as error:  # noqa: BLE001 - the boundary: anything else is our bug
        _fail(f"internal error: {type(error).__name__}: {_first_line(error)}; details in "
              f"{write_crash_file()}", EXIT_INTERNAL_ERROR)
    # A command returns None, or typer.Exit's status (--help's 0, the gate's 1).
    sys.exit(status if isinstance(status, int) else 0)


def describe_os_error(error: OSError) -> str:
    """``PATH: what went wrong`` for an operating-system error, in one line."""
    reason = (error.strerror or type(error).__name__).lower()
    where = error.filename if error.filename is not None else ""
    return f"{where}: {reason}" if where else reason


def write_crash_file() -> str:
    """The current exception's traceback in a new file of the temporary folder; its path."""
    import tempfile
    import traceback

    handle, path = tempfile.mkstemp(prefix="twinaudit-crash-", suffix=".txt")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(f"twinaudit {__version__}: {shlex.join(sys.argv)}\n\n")
        stream.write(traceback.format_exc())
    return path


def _first_line(error: BaseException | str) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else "(no message)"


def _fail(message: str, status: int) -> None:
    typer.echo(f"twinaudit: {message}", err=True)
    sys.exit(status)


if __name__ == "__main__":
    main()
