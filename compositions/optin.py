"""Opt-in acceptance: from the consent ledger (per data item and share target, the funnel, by
attribute, logistic regression, withdrawals per day in Japan) and from the drill
questionnaire's answers.

The attributes (age band) are taken on the reference moment's **date in Japan** — the same
for the page, ``bosai analyze optin`` and the council report.

Tables (fixed columns): ``by_data_item`` :data:`BY_ITEM`; ``by_share_target``
:data:`BY_TARGET`; ``funnel`` :data:`FUNNEL`; ``by_attribute`` :data:`BY_ATTRIBUTE`;
``logit`` :data:`LOGIT`; ``withdrawals`` :data:`WITHDRAWALS`; questionnaire: ``answers``
:data:`ANSWERS`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from analytics.optin_acceptance import ledger_report, questionnaire_optin
from bosai.vocab import DATA_ITEMS, SHARE_TARGETS
from sql.queries import research
from sql.viewer import Viewer

from . import Composition, japan_date, tidy

PROPORTION = ("n", "count", "share", "ci_low", "ci_high")
BY_ITEM = ("data_item", *PROPORTION)
BY_TARGET = ("share_target", *PROPORTION)
FUNNEL = ("stage", "count", "share_of_invited", "share_of_previous")
BY_ATTRIBUTE = ("data_item", "attribute", "level", *PROPORTION)
LOGIT = (
    "data_item",
    "term",
    "attribute",
    "level",
    "reference",
    "odds_ratio",
    "or_ci_low",
    "or_ci_high",
    "z",
    "p",
    "n",
)
WITHDRAWALS = ("day", "withdrawals", "citizens")
ANSWERS = ("question", "option", *PROPORTION, "mean")
RECOGNITION = ("optin_recognised", "optin_choice_clear", "optin_resistance", "optin_willing")


def ledger(
    engine: Engine,
    viewer: Viewer,
    at: dt.datetime,
    people: Iterable[int] | None = None,
) -> Composition:
    """Acceptance at ``at`` among ``people`` (default: every citizen in the database)."""
    consent = research.consent_ledger(engine, viewer)
    wanted = None if people is None else {int(p) for p in people}
    attributes = research.citizen_attributes(engine, viewer, japan_date(at), wanted)
    invited = attributes["citizen_id"].tolist() if wanted is None else sorted(wanted)
    report = ledger_report(
        consent, attributes, invited, at, items=list(DATA_ITEMS), targets=list(SHARE_TARGETS)
    )
    return from_report(report)


def from_report(report: dict[str, Any]) -> Composition:
    """The tidy tables of :func:`analytics.optin_acceptance.ledger_report`'s result."""
    by_attribute, logit = [], []
    for item, attributes in report["by_attribute"].items():
        for attribute, rows in attributes.items():
            for row in rows:
                by_attribute.append(
                    {"data_item": item, "attribute": attribute, "level": row[attribute], **row}
                )
    for item, model in report["logit"].items():
        references = model.get("references", {})
        for row in model.get("coefficients", []):
            attribute, _, level = row["term"].partition("=")
            if row["term"] == "const":
                attribute, level = "const", ""
            logit.append(
                {
                    "data_item": item,
                    "attribute": attribute,
                    "level": level,
                    "reference": references.get(attribute),
                    "n": model["n"],
                    **row,
                }
            )
    withdrawals = pd.DataFrame(report["withdrawals"]).rename(columns={"period": "day"})
    tables = {
        "by_data_item": tidy(report["by_data_item"], BY_ITEM),
        "by_share_target": tidy(report["by_share_target"], BY_TARGET),
        "funnel": tidy(report["funnel"], FUNNEL),
        "by_attribute": tidy(by_attribute, BY_ATTRIBUTE),
        "logit": tidy(logit, LOGIT),
        "withdrawals": tidy(withdrawals, WITHDRAWALS),
    }
    notes = dict(report["method"])
    notes["withdrawals"] = "withdrawn events and distinct citizens per calendar day in Japan"
    notes["attributes"] = "age band on the reference moment's date in Japan (Asia/Tokyo)"
    return Composition(tables, notes, report)


def questionnaire(frame: pd.DataFrame) -> Composition:
    """The drill questionnaire's opt-in answers (``drill-2022`` item ids), one row per
    question × option."""
    answers = questionnaire_optin(frame)
    rows = [
        {"question": "consent_timing", "option": code, **value}
        for code, value in answers.get("consent_timing", {}).items()
    ]
    rows += [
        {"question": "share_targets", "option": code, **value}
        for code, value in answers.get("share_targets", {}).items()
    ]
    rows += [
        {"question": item, "option": "agree_4_5", **answers[item]}
        for item in RECOGNITION
        if item in answers
    ]
    notes = {
        "answers": "drill-2022 questionnaire; shares with Wilson 95% intervals; agreement = "
        "answer 4 or 5; share targets: multiple choice, each option of all who answered",
    }
    return Composition({"answers": tidy(rows, ANSWERS)}, notes, answers)


def questionnaire_from_database(
    engine: Engine, instrument_id: str = "drill-2022", drill_id: int | None = None
) -> Composition | None:
    """:func:`questionnaire` of the imported responses (of one drill), None without the
    instrument."""
    if research.instrument_definition(engine, instrument_id) is None:
        return None
    return questionnaire(research.survey_responses(engine, instrument_id, drill_id))
