"""Bosai Ops — the Streamlit entry point: set up the shell, then build the navigation.

Outages never reach the screen as a traceback. When the database stops answering (unreachable,
dropped, locked for longer than the busy or lock timeout) or the city OS fails during a page's
run, the page shows the red banner — what failed and the time of the last good data — above
whatever it had drawn, and a small fragment checks every few seconds and reruns the page once
the service answers again. A data feed marked stale (a failed city-OS sync) is shown on every
page the same way until a sync succeeds. The shell does the same for its own database reads.
"""

import streamlit as st
from sqlalchemy import exc as sa_exc

from cityos.errors import CityOSError
from dashboard import data, registry, shell, widgets
from sql.migrate import current_revision

#: Database errors that mean "not answering" (a bug in a query is not an outage: it stays an
#: error, shown without details by ``client.showErrorDetails = "none"``).
DATABASE_DOWN = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    sa_exc.DisconnectionError,
)
#: Pages that show the data feeds' state themselves, in their live fragment.
SHOWS_OWN_SOURCES = frozenset({"hq-map"})

st.set_page_config(
    page_title="Bosai Ops 防災オペレーション", page_icon=":material/emergency:", layout="wide"
)
top = st.container()
ctx = shell.prepare()


def _database_answers() -> bool:
    return current_revision(ctx.engine) is not None


def _sources_recovered() -> bool:
    return not any(s.get("stale") for s in data.source_health(ctx.database_url))


try:
    page = shell.navigation(ctx)
    shell.redraw_after_type_size_change(page)
    back_to = widgets.page_to_return_to()
    if back_to and back_to != page.url_path and registry.can_open(ctx.viewer.role, back_to):
        st.switch_page(str(registry.page_by_url_path(back_to).path))
    if page.url_path not in SHOWS_OWN_SOURCES:
        with top:
            if widgets.stale_sources_banner(ctx.lang, data.source_health(ctx.database_url)):
                widgets.retry_until_back(ctx.lang, _sources_recovered)
    page.run()
except DATABASE_DOWN as exc:
    with top:
        widgets.outage_banner(ctx.lang, "database", exc)
        widgets.retry_until_back(ctx.lang, _database_answers)
except CityOSError as exc:
    with top:
        widgets.outage_banner(ctx.lang, "cityos", exc)
        widgets.retry_until_back(ctx.lang, lambda: True)
else:
    widgets.remember_good_run()
