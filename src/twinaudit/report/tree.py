"""Walking results.json as a tree: flattening scalar leaves to paths, finding known shapes.

Sections written by other audits are recognised by their *shape* (a fairness audit has
``overall`` and ``group_sets``), not by their exact place, so the report keeps working while
the layout of results.json grows; the keys on the way there name the framework and the seed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Fields that identify a list item better than its position (list order may change).
IDENTITY_FIELDS = ("name", "framework", "seed", "variant", "method")


def item_label(item: Any, index: int) -> str:
    """``[framework=torch, seed=0]`` for an identifiable dict, ``[3]`` otherwise."""
    if isinstance(item, dict):
        parts = [f"{field}={item[field]}" for field in IDENTITY_FIELDS
                 if isinstance(item.get(field), str | int) and not isinstance(item[field], bool)]
        if parts:
            return "[" + ", ".join(parts) + "]"
    return f"[{index}]"


def flatten(tree: Any, prefix: str = "", *, skip: Callable[[str], bool] | None = None
            ) -> dict[str, Any]:
    """Every scalar leaf (number, str, bool, None) of ``tree`` keyed by its dotted path.

    Parameters
    ----------
    tree : object
        Parsed JSON.
    prefix : str
        The path of ``tree`` itself.
    skip : callable, optional
        ``skip(path) -> bool``; a true answer prunes that subtree.

    Returns
    -------
    dict
        ``{"parity.step0.max_abs_logit_diff": 2.4e-07, "twins[framework=torch, seed=0]
        .test_accuracy": 0.855, ...}``. A two-number list under a key named ``ci`` stays one
        leaf: an interval is a value, not two.
    """
    leaves: dict[str, Any] = {}

    def visit(node: Any, path: str) -> None:
        if skip is not None and path and skip(path):
            return
        if isinstance(node, dict):
            for key, child in node.items():
                visit(child, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list) and not is_interval_path(path, node):
            for index, child in enumerate(node):
                visit(child, f"{path}{item_label(child, index)}")
        else:
            leaves[path] = node

    visit(tree, prefix)
    return leaves


def is_interval_path(path: str, node: list) -> bool:
    return path.rsplit(".", 1)[-1] == "ci" and len(node) == 2


def find(tree: Any, matches: Callable[[Any], bool]) -> list[tuple[tuple, Any]]:
    """The (path, node) pairs whose node matches, not descending into a match."""
    found: list[tuple[tuple, Any]] = []

    def visit(node: Any, path: tuple) -> None:
        if matches(node):
            found.append((path, node))
            return
        children = node.items() if isinstance(node, dict) else (
            enumerate(node) if isinstance(node, list) else ())
        for key, child in children:
            visit(child, (*path, key))

    visit(tree, ())
    return found
