"""Uploads on the research pages (Streamlit parts): a questionnaire export with a shipped or
uploaded instrument and an optional column mapping, or a UI/UX timing sheet — the validation
report as a table (file, row, column, value, reason: the checks of ``bosai survey import``), a
preview and the dry-run counts, then the import in a dialog that says what it will do (all or
nothing, idempotent, audited). The checking and storing is :mod:`sql.imports.research_uploads`.
The research pages are open to researchers and admins only (``registry``)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import pandas as pd
import streamlit as st

from bosai.jpdate import format_datetime
from sql.imports import research_uploads as uploads
from surveys.instrument import Instrument, Item

from . import gate, safety_panels
from .context import PageContext

UPLOAD_INSTRUMENT = "__upload__"
#: Preview columns whose codes the catalog labels (``research.group.*``, ``research.method.*``).
CATALOG_CODES = {
    "participant_type": "research.group",
    "age_band": "research.group",
    "sex": "research.group",
    "group": "research.group",
    "method": "research.method",
}
#: Preview columns that are not items, with their catalog header.
PREVIEW_HEADERS = {
    "submitted_at": "research.upload.preview_col.submitted_at",
    "participant_type": "research.survey.attribute.participant_type",
    "age_band": "research.survey.attribute.age_band",
    "sex": "research.survey.attribute.sex",
    "source_row": "research.upload.col.row",
    "participant": "research.upload.preview_col.participant",
    "group": "research.common.group",
    "task": "research.uiux.task",
    "method": "research.uiux.method",
    "seconds": "research.upload.preview_col.seconds",
    "success": "research.upload.preview_col.success",
    "error_count": "research.uiux.errors",
}


def _file(upload) -> tuple[str, bytes] | None:
    return None if upload is None else (upload.name, upload.getvalue())


def _key(*parts: tuple[str, bytes] | str | None) -> str:
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, tuple):
            digest.update(part[0].encode() + b"\0" + part[1])
        else:
            digest.update(str(part).encode())
        digest.update(b"\1")
    return digest.hexdigest()


def _cached_check(slot: str, key: str, check) -> uploads.UploadCheck:
    """The check of these bytes, once per upload (reruns reuse it)."""
    stored = st.session_state.get(slot)
    if not stored or stored[0] != key:
        with st.spinner():
            stored = (key, check())
        st.session_state[slot] = stored
    return stored[1]


def _show_check(
    ctx: PageContext, check: uploads.UploadCheck, instrument: Instrument | None = None
) -> None:
    t = ctx.t
    if check.report.empty:
        st.success(t("research.upload.passed", file=check.file, rows=f"{check.rows:,}"))
    else:
        errors = int((check.report["level"] == "error").sum())
        warnings = int((check.report["level"] != "error").sum())
        (st.error if errors else st.warning)(
            t("research.upload.problems", file=check.file, errors=errors, warnings=warnings)
        )
        shown = check.report.assign(
            level=[t(f"research.upload.level.{lv}") for lv in check.report["level"]]
        )
        st.dataframe(
            shown.rename(columns={c: t(f"research.upload.col.{c}") for c in shown.columns}),
            hide_index=True,
            width="stretch",
            key=f"upload_report_{check.what}",
        )
    if check.ok and check.counts is not None:
        st.info(
            t(
                "research.upload.ready",
                inserted=f"{check.counts['inserted']:,}",
                updated=f"{check.counts['updated']:,}",
                unchanged=f"{check.counts['unchanged']:,}",
            )
        )
        if not check.preview.empty:
            st.caption(t("research.upload.preview", n=len(check.preview)))
            st.dataframe(
                preview_frame(check.preview, t, ctx.lang, instrument),
                hide_index=True,
                width="stretch",
            )


def preview_frame(
    preview: pd.DataFrame,
    t: Callable[..., str],
    lang: str,
    instrument: Instrument | None = None,
) -> pd.DataFrame:
    """The preview as the page shows it, in the session's language: codes as their labels —
    groups, age bands, sex and methods from the catalog, other choices from the instrument
    (several answers joined) —, whole numbers without ``.0``, times in Japan time, missing
    values 「—」; headers are the items' texts and the catalog's names."""
    items = {i.id: i for i in instrument.items} if instrument is not None else {}
    out = pd.DataFrame(index=preview.index)
    for column in preview.columns:
        item = items.get(column)
        prefix = CATALOG_CODES.get((item.maps_to if item else None) or column)
        out[_preview_header(column, item, t, lang)] = [
            _preview_value(value, item, prefix, t, lang) for value in preview[column]
        ]
    return out.reset_index(drop=True)


def _preview_header(column: str, item: Item | None, t: Callable[..., str], lang: str) -> str:
    if item is not None and item.maps_to:
        key = f"research.survey.attribute.{item.maps_to}"
        return t(key) if t(key) != key else item.text(lang)
    if item is not None:
        return item.text(lang)
    key = PREVIEW_HEADERS.get(column)
    return t(key) if key else column


def _preview_value(
    value: Any, item: Item | None, prefix: str | None, t: Callable[..., str], lang: str
) -> str:
    import datetime as dt

    if value is None or (not isinstance(value, str | list | tuple) and pd.isna(value)):
        return "—"
    if isinstance(value, dt.datetime):
        return format_datetime(value, lang)
    if isinstance(value, bool):
        return t(f"research.upload.yes_no.{str(value).lower()}")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and (prefix or (item is not None and item.options)):
        codes = value.split(";") if item is not None and item.type == "multiple" else [value]
        return ("、" if lang == "ja" else "; ").join(
            _code_label(code, item, prefix, t, lang) for code in codes
        )
    return str(value)


def _code_label(
    code: str, item: Item | None, prefix: str | None, t: Callable[..., str], lang: str
) -> str:
    """The catalog's label of a code (``research.group.70plus`` → 70代以上), else the
    instrument's option label, else the code."""
    if prefix:
        key = f"{prefix}.{code}"
        if (text := t(key)) != key:
            return text
    option = item.option(code) if item is not None else None
    return option.label(lang) if option is not None else code


# ---------------------------------------------------------------- questionnaires


def _section(title: str, name: str, expanded: bool):
    """The upload's expander, its open state kept on the server (``{name}_section``): open as
    the page asks at first, then as the reader leaves it — and open while a file is being
    worked on, so an upload's reruns never fold the report away (the browser's own state did,
    on a loaded machine)."""
    key = f"{name}_section"
    working = st.session_state.get(_round_key(name, "file")) is not None
    if key not in st.session_state or working:
        st.session_state[key] = expanded or working
    return st.expander(title, key=key, on_change="rerun")


@contextmanager
def _upload_section(ctx: PageContext, name: str, kind: str, label: str, expanded: bool):
    """Upload ``name``'s expander (``research.upload.{kind}_title``) with what it takes
    (``{kind}_help``: formats and limits) and its file uploader (``label``): yields the file."""
    t = ctx.t
    with _section(t(f"research.upload.{kind}_title"), name, expanded):
        mb, rows = uploads.MAX_BYTES // (1024 * 1024), f"{uploads.MAX_ROWS:,}"
        st.caption(t(f"research.upload.{kind}_help", mb=mb, rows=rows))
        yield st.file_uploader(
            t(f"research.upload.{label}"), type=["csv", "xlsx"], key=_round_key(name, "file")
        )


def _round_key(name: str, part: str) -> str:
    """The key of upload ``name``'s file widget ``part`` in the current round. An import ends
    the round: the next run draws empty uploaders, so the imported file is neither checked
    again nor offered for import a second time."""
    return f"{name}_{part}_{st.session_state.get(f'{name}_round', 0)}"


def _next_round(name: str) -> None:
    st.session_state[f"{name}_round"] = st.session_state.get(f"{name}_round", 0) + 1


def survey_upload(ctx: PageContext, expanded: bool = False) -> None:
    """The questionnaire upload, in an expander."""
    from surveys.instrument import available

    t = ctx.t
    with _upload_section(ctx, "survey_upload", "survey", "export", expanded) as export:
        left, right = st.columns(2)
        choice = left.selectbox(
            t("research.upload.instrument"),
            [*available(), UPLOAD_INSTRUMENT],
            format_func=lambda i: (
                t("research.upload.own_instrument") if i == UPLOAD_INSTRUMENT else i
            ),
            key="survey_upload_instrument",
        )
        own = None
        if choice == UPLOAD_INSTRUMENT:
            own = right.file_uploader(
                t("research.upload.instrument_yaml"),
                type=["yaml", "yml"],
                key=_round_key("survey_upload", "instrument_yaml"),
            )
        mapping = st.file_uploader(
            t("research.upload.mapping"),
            type=["yaml", "yml"],
            key=_round_key("survey_upload", "mapping"),
        )
        if export is None or (choice == UPLOAD_INSTRUMENT and own is None):
            return
        args: dict[str, Any] = {
            "name": export.name,
            "data": export.getvalue(),
            "instrument": "" if choice == UPLOAD_INSTRUMENT else choice,
            "instrument_yaml": _file(own),
            "mapping_yaml": _file(mapping),
        }
        key = _key(
            (args["name"], args["data"]),
            args["instrument"],
            args["instrument_yaml"],
            args["mapping_yaml"],
        )
        check = _cached_check(
            "survey_upload_check", key, lambda: uploads.check_survey(ctx.engine, **args)
        )
        _show_check(ctx, check, check.parsed.instrument if check.parsed is not None else None)
        _import_button(
            ctx,
            "survey_upload",
            check,
            lambda: uploads.import_survey_upload(ctx.engine, ctx.viewer, check=check, **args),
        )


def _import_button(
    ctx: PageContext, name: str, check: uploads.UploadCheck, action: Callable[[], Any]
) -> None:
    """The import button of upload ``name`` once its file passed the check; it opens the
    dialog that says what the import will do."""
    if check.ok and st.button(
        ctx.t("research.upload.import"), type="primary", icon=":material/upload:", key=f"{name}_go"
    ):
        gate.dialog(ctx.t("research.upload.confirm_title"))(_confirm_import)(
            ctx, name, check, action
        )


def _confirm_import(
    ctx: PageContext, name: str, check: uploads.UploadCheck, action: Callable[[], Any]
) -> None:
    t = ctx.t
    st.text(
        t(
            "research.upload.confirm",
            file=check.file,
            what=check.what,
            inserted=f"{check.counts['inserted']:,}",
            updated=f"{check.counts['updated']:,}",
        )
    )
    left, right = st.columns(2)
    if left.button(t("research.upload.confirm_go"), type="primary", width="stretch"):
        _do(ctx, name, action)
        st.rerun()
    if right.button(t("research.upload.cancel"), width="stretch"):
        st.rerun()


def _do(ctx: PageContext, name: str, action) -> None:
    from bosai.errors import InvalidInputError

    try:
        with st.spinner(ctx.t("research.upload.importing")):
            done = action()
    except InvalidInputError as exc:
        safety_panels.say("error", ctx.t("research.upload.failed", reason=str(exc)))
        return
    st.cache_data.clear()  # the page's aggregates include the new responses
    for slot in ("survey_upload_check", "timings_upload_check"):
        st.session_state.pop(slot, None)
    _next_round(name)
    safety_panels.say(
        "success",
        ctx.t(
            "research.upload.done",
            file=done["file"],
            inserted=f"{done['inserted']:,}",
            updated=f"{done['updated']:,}",
            unchanged=f"{done['unchanged']:,}",
        ),
    )


# ---------------------------------------------------------------- UI/UX timing sheets


def timings_upload(ctx: PageContext, expanded: bool = False) -> None:
    t = ctx.t
    with _upload_section(ctx, "timings_upload", "timings", "sheet", expanded) as sheet:
        name = st.text_input(t("research.upload.session_name"), key="timings_upload_name")
        if sheet is None:
            return
        data = sheet.getvalue()
        check = _cached_check(
            "timings_upload_check",
            _key((sheet.name, data)),
            lambda: uploads.check_timings(ctx.engine, sheet.name, data),
        )
        _show_check(ctx, check)
        args = {"name": sheet.name, "data": data, "session_name": name.strip() or None}
        _import_button(
            ctx,
            "timings_upload",
            check,
            lambda: uploads.import_timings_upload(ctx.engine, ctx.viewer, **args),
        )


def report_frame(check: uploads.UploadCheck) -> pd.DataFrame:
    """The report as the page shows it (for tests and downloads)."""
    return check.report
