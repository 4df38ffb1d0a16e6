"""``python -m bosai`` is the ``bosai`` command."""

from bosai.cli import run

run()
