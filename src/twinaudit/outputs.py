"""A run's outputs as one set: staged in fresh folders, swapped in whole, one run at a time.

A run writes its results, predictions, report and checkpoints into staging folders beside the
targets (``.<name>.staging-<pid>``) and renames them into place only at the very end, so the
previous set stays whole until then: a run that fails or is killed changes nothing a reader
sees. A lock file beside each target (``.<name>.lock``, holding the writer's pid) stops a
second run into the same folders; what a killed run left (its staging folders, its lock) is
removed by the next run, once the pid that left it is gone.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import TracebackType

from twinaudit.errors import InputError


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _owner(path: Path) -> int | None:
    """The pid a lock file or staging folder belongs to (None when unreadable)."""
    try:
        text = path.read_text().strip() if path.is_file() else path.name.rsplit("-", 1)[1]
        return int(text)
    except (OSError, ValueError, IndexError):
        return None


def foreign_entries(target: Path, allowed: tuple[str, ...]) -> list[str]:
    """The entries of an existing ``target`` that no twinaudit run writes (``allowed`` holds
    glob patterns of what it does); the swap replaces the whole folder, so a folder holding
    anything else is refused rather than replaced."""
    if not target.is_dir():
        return []
    return sorted(entry.name for entry in target.iterdir()
                  if not any(entry.match(pattern) for pattern in allowed))


class OutputSet:
    """The folders one run writes, each staged and swapped in whole (a context manager).

    Parameters
    ----------
    targets : dict of Path to tuple of str
        The final folders (e.g. ``reports/adult`` and ``models/adult``), each with the glob
        patterns of the entries a run writes there: a folder that holds anything else is
        refused, never replaced.

    ``staging(target)`` is where the run writes what belongs in ``target``; ``commit()``
    swaps every staged folder in; leaving the block without ``commit()`` removes them.
    """

    def __init__(self, targets: dict[Path, tuple[str, ...]]):
        self.targets = {Path(target): allowed for target, allowed in targets.items()}
        self._locks: list[Path] = []
        self._staging: dict[Path, Path] = {}
        self.committed = False

    def __enter__(self) -> OutputSet:
        try:
            for target, allowed in self.targets.items():
                if target.is_symlink():
                    raise InputError(f"{target}: is a symbolic link (twinaudit never writes "
                                     "through one)")
                if target.exists() and not target.is_dir():
                    raise InputError(f"{target}: is a file (expected a folder for the run's "
                                     "outputs)")
                foreign = foreign_entries(target, allowed)
                if foreign:
                    raise InputError(
                        f"{target}: holds {', '.join(foreign[:3])}"
                        f"{' ...' if len(foreign) > 3 else ''}, which no twinaudit run wrote; "
                        "a run replaces its folder whole, so choose a new or empty folder")
                check_folder_can_exist(target)
                target.parent.mkdir(parents=True, exist_ok=True)
                self._lock(target)
                self._remove_leftovers(target)
                staging = target.parent / f".{target.name}.staging-{os.getpid()}"
                staging.mkdir()
                self._staging[target] = staging
        except BaseException:
            self._clean_up()
            raise
        return self

    def staging(self, target: Path) -> Path:
        return self._staging[Path(target)]

    def commit(self) -> None:
        """Swap every staged folder in: the old set is moved aside, the new one renamed in."""
        for target, staging in self._staging.items():
            previous = target.parent / f".{target.name}.previous-{os.getpid()}"
            if target.exists():
                os.replace(target, previous)
            os.replace(staging, target)
            shutil.rmtree(previous, ignore_errors=True)
        self.committed = True

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._clean_up()

    def _lock(self, target: Path) -> None:
        lock = target.parent / f".{target.name}.lock"
        for _ in range(2):
            try:
                handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW,
                                 0o644)
            except FileExistsError:
                holder = _owner(lock)
                if holder is not None and _alive(holder):
                    raise InputError(
                        f"{target}: another twinaudit run (pid {holder}) is writing here; wait "
                        f"for it to finish, or remove {lock} if that process is gone") from None
                lock.unlink(missing_ok=True)  # left by a run that was killed
                continue
            with os.fdopen(handle, "w") as stream:
                stream.write(f"{os.getpid()}\n")
            self._locks.append(lock)
            return
        raise InputError(f"{lock}: cannot take the lock of {target}")

    @staticmethod
    def _remove_leftovers(target: Path) -> None:
        for pattern in (f".{target.name}.staging-*", f".{target.name}.previous-*"):
            for leftover in target.parent.glob(pattern):
                holder = _owner(leftover)
                if leftover.is_dir() and not leftover.is_symlink() and holder is not None \
                        and not _alive(holder):
                    shutil.rmtree(leftover, ignore_errors=True)

    def _clean_up(self) -> None:
        if not self.committed:
            for staging in self._staging.values():
                shutil.rmtree(staging, ignore_errors=True)
        for lock in self._locks:
            lock.unlink(missing_ok=True)
        self._locks.clear()


def check_folder_can_exist(folder: Path) -> None:
    """Refuse a folder that cannot be made because a file stands on its way.

    Said before anything is written, as the path the user gave: mkdir would otherwise report
    ``/dev/null: file exists`` for ``/dev/null/x``, naming neither the problem nor the target.
    """
    for ancestor in (folder, *folder.parents):
        if ancestor.is_dir():
            return
        if ancestor.exists() or ancestor.is_symlink():
            raise InputError(f"{ancestor}: is not a folder (so {folder} cannot be made)")
