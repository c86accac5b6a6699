"""torch's intra-op thread count, limited for a block and restored after."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run the block with torch limited to ``threads`` intra-op threads (0: leave as is).

    torch's thread count is process-wide, so it is restored afterwards. Nothing happens when
    torch has not been imported: then no torch twin is trained in this block.
    """
    torch = sys.modules.get("torch")
    if threads == 0 or torch is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
