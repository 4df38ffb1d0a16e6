"""Helpers for the importer tests: run ``bosai`` in-process and read the database back."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from bosai.cli import main
from sql.engine import get_engine

DATA = Path(__file__).with_name("data")
BAD = Path(__file__).with_name("bad")
NANAO_CITY = DATA / "nanao_172022.yaml"


@dataclasses.dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


Bosai = Callable[..., CliResult]


@pytest.fixture
def bosai(capsys) -> Bosai:
    """``bosai(url, "import", "shelters", path)`` → exit code, stdout, stderr (the real CLI)."""

    def run(url: str, *args: object) -> CliResult:
        capsys.readouterr()
        code = main(["--database-url", url, *map(str, args)])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def rows(url: str, query: sa.Select | sa.TextClause) -> list[sa.Row]:
    with get_engine(url).connect() as conn:
        return list(conn.execute(query))


def scalar(url: str, query: sa.Select) -> object:
    with get_engine(url).connect() as conn:
        return conn.execute(query).scalar_one()
