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


def telegram_xml(
    report_time: str,
    items: list[tuple[str, str, list[tuple[str | None, str | None, str]]]],
    *,
    control_title: str = "気象警報・注意報（Ｈ２７）",
    control_status: str = "通常",
    level: str = "気象警報・注意報（市町村等）",
    office: str = "東京管区気象台",
) -> str:
    """A minimal VPWW54 telegram: ``items`` is [(area code, area name, [(kind code, kind name,
    status)])] at one area level."""
    body = []
    for code, name, kinds in items:
        kind_xml = "".join(
            "<Kind>"
            + (f"<Name>{k_name}</Name>" if k_name else "")
            + (f"<Code>{k_code}</Code>" if k_code else "")
            + f"<Status>{status}</Status></Kind>"
            for k_code, k_name, status in kinds
        )
        body.append(f"<Item>{kind_xml}<Area><Name>{name}</Name><Code>{code}</Code></Area></Item>")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Report xmlns="http://xml.kishou.go.jp/jmaxml1/">
  <Control>
    <Title>{control_title}</Title>
    <DateTime>{report_time}</DateTime>
    <Status>{control_status}</Status>
    <EditorialOffice>{office}</EditorialOffice>
    <PublishingOffice>{office}</PublishingOffice>
  </Control>
  <Head xmlns="http://xml.kishou.go.jp/jmaxml1/informationBasis1/">
    <Title>試験県気象警報・注意報</Title>
    <ReportDateTime>{report_time}</ReportDateTime>
    <TargetDateTime>{report_time}</TargetDateTime>
    <EventID/>
    <InfoType>発表</InfoType>
    <Serial/>
    <InfoKind>気象警報・注意報</InfoKind>
    <InfoKindVersion>1.2_0</InfoKindVersion>
    <Headline><Text>作成した電文</Text></Headline>
  </Head>
  <Body xmlns="http://xml.kishou.go.jp/jmaxml1/body/meteorology1/">
    <Warning type="{level}">{"".join(body)}</Warning>
  </Body>
</Report>
"""
