"""報告書 — the council report (PDF, HTML, Excel) of an incident or a drill, and the situation
report (災害状況報告) of an incident at a chosen moment, with a progress bar and a download.

The page only picks and shows: the reports are built by :func:`reports.council.produce` and
:func:`reports.situation.produce` (as ``bosai report`` does). The file is kept in this session
only, so that the download button survives reruns.
"""

import streamlit as st

from analytics.replay_steps import replay_moments
from bosai.errors import BosaiError
from bosai.jpdate import file_stamp, format_datetime
from dashboard import gate
from dashboard.context import current
from dashboard.text import say
from reports import council, situation
from sql.queries import research
from sql.queries.incidents import incident_timeline, list_incidents

ctx = current()
t = ctx.t
MIME = {
    "pdf": "application/pdf",
    "html": "text/html",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
COUNCIL_KEY = "_reports_council_file"
SITUATION_KEY = "_reports_situation_file"

st.title(t("reports.page.title"))
st.caption(t("reports.page.caption"))
incidents = list_incidents(ctx.engine)
drills = research.drills(ctx.engine)
council_tab, situation_tab = st.tabs([t("reports.page.council"), t("reports.page.situation")])


def incident_label(incident) -> str:
    return (
        f"{incident.name(ctx.lang)}（{t(f'incident_kind.{incident.kind}')}・"
        f"{format_datetime(incident.declared_at, ctx.lang, era_style=True)}）"
    )


def offer(key: str, label: str) -> None:
    """The download button of the file this session made last (if any)."""
    made = st.session_state.get(key)
    if made is None:
        return
    name, data, fmt = made
    st.success(t("reports.page.ready", name=name, size=f"{len(data):,}"))
    gate.download_button(
        label, data, file_name=name, mime=MIME[fmt], icon=":material/download:", key=f"{key}_dl"
    )


def choose_format(formats, key: str) -> str:
    """The report's file format, one of ``formats``."""
    return st.radio(
        t("reports.page.format"),
        list(formats),
        format_func=lambda f: t(f"reports.page.formats.{f}"),
        horizontal=True,
        key=key,
    )


def make_button(key: str) -> bool:
    """The button that makes the report; True on the run after its click."""
    return st.button(t("reports.page.make"), type="primary", icon=":material/summarize:", key=key)


# ---------------------------------------------------------------- council report
with council_tab:
    st.write(t("reports.page.council_intro"))
    subjects = ["incident", "drill"] if len(drills) else ["incident"]
    subject = st.radio(
        t("reports.page.subject"),
        subjects,
        format_func=lambda s: t(f"report.kind.{s}"),
        horizontal=True,
        key="council_subject",
    )
    choice = None
    if subject == "incident":
        if incidents:
            choice = st.selectbox(
                t("reports.page.incident"),
                incidents,
                format_func=incident_label,
                key="council_incident",
            )
        else:
            st.info(t("reports.page.no_incident"))
    else:
        labels = {
            int(
                row.id
            ): f"{row.name}（{format_datetime(row.started_at, ctx.lang, era_style=True)}）"
            for row in drills.itertuples()
        }
        choice = st.selectbox(
            t("reports.page.drill"), list(labels), format_func=labels.get, key="council_drill"
        )
    fmt = choose_format(council.FORMATS, "council_format")
    if choice is not None and make_button("council_make"):
        bar = st.progress(0.0, text=t("report.progress.reading"))
        ref = choice.id if subject == "incident" else choice
        try:
            data = council.produce(
                ctx.engine,
                fmt,
                incident=ref if subject == "incident" else None,
                drill=ref if subject == "drill" else None,
                viewer=ctx.viewer,
                lang=ctx.lang,
                progress=lambda share, text: bar.progress(min(max(share, 0.0), 1.0), text=text),
            )
        except BosaiError as exc:
            bar.empty()
            st.error(say(t, "reports.page.failed", error=exc))
        else:
            bar.progress(1.0, text=t("report.progress.done"))
            name = council.file_name(f"council_{subject}", ref, fmt)
            st.session_state[COUNCIL_KEY] = (name, data, fmt)
    offer(COUNCIL_KEY, t("reports.page.download"))

# ---------------------------------------------------------------- situation report
with situation_tab:
    st.write(t("reports.page.situation_intro"))
    if not incidents:
        st.info(t("reports.page.no_incident"))
    else:
        incident = st.selectbox(
            t("reports.page.incident"),
            incidents,
            format_func=incident_label,
            key="situation_incident",
        )
        timeline = incident_timeline(ctx.engine, incident.id)
        moments = replay_moments(timeline["start"], timeline["end"], timeline["observations"])
        at = st.select_slider(
            t("reports.page.at"),
            options=moments,
            value=moments[-1],
            format_func=lambda m: format_datetime(m, ctx.lang, era_style=True),
            key=f"situation_at_{incident.id}",
        )
        at, since = situation.default_moments(ctx.engine, incident.id, at, None)
        st.caption(t("reports.page.since", since=format_datetime(since, ctx.lang, era_style=True)))
        fmt = choose_format(situation.FORMATS, "situation_format")
        if make_button("situation_make"):
            with st.spinner(t("reports.page.making")):
                try:
                    data = situation.produce(
                        ctx.engine,
                        incident.id,
                        fmt,
                        at=at,
                        since=since,
                        viewer=ctx.viewer,
                        lang=ctx.lang,
                    )
                except BosaiError as exc:
                    st.error(say(t, "reports.page.failed", error=exc))
                else:
                    stamp = file_stamp(at)
                    name = council.file_name("situation", f"{incident.id}_{stamp}", fmt)
                    st.session_state[SITUATION_KEY] = (name, data, fmt)
        offer(SITUATION_KEY, t("reports.page.download"))
