"""Progress reporting for readers: ``progress(done, total)``, called now and then while reading.

Readers take an optional :data:`Progress` callback so that the command line can show a bar for
large inputs; they never print anything themselves.
"""

from __future__ import annotations

from collections.abc import Callable

#: ``progress(done, total)``: ``done`` items of ``total`` read so far.
Progress = Callable[[int, int], None]

#: Rows between two calls (a call per row would cost more than the bar is worth).
STEP = 250


def tick(progress: Progress | None, done: int, total: int, step: int = STEP) -> None:
    """Call ``progress`` every ``step`` items and at the last one."""
    if progress is not None and (done % step == 0 or done == total):
        progress(done, total)
