"""Production hardening: the Streamlit configuration in the repository, no personal data in
URLs or query parameters, CSV downloads escaped for spreadsheets."""

from __future__ import annotations

import re
import tomllib

from streamlit import config as st_config

from tests.conftest import ROOT

CONFIG = ROOT / ".streamlit" / "config.toml"


def test_the_repository_config_is_production_safe():
    settings = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    assert settings["server"]["enableXsrfProtection"] is True
    assert settings["server"]["enableCORS"] is True
    assert settings["server"]["corsAllowedOrigins"] == []
    assert settings["server"]["enableAgentApi"] is False
    assert settings["client"]["allowedOrigins"] == [], "no *.streamlit.app may drive the app"
    assert settings["client"]["showErrorLinks"] is False
    assert settings["server"]["headless"] is True
    assert settings["client"]["showErrorDetails"] == "none"
    assert settings["client"]["toolbarMode"] == "viewer"
    assert settings["browser"]["gatherUsageStats"] is False
    # Every key is a real Streamlit option (a typo would silently do nothing).
    known = set(st_config.get_config_options())
    used = {f"{section}.{key}" for section, values in settings.items() for key in values}
    assert used <= known, used - known


def test_streamlit_reads_it_that_way(monkeypatch):
    monkeypatch.chdir(ROOT)
    st_config.get_config_options(force_reparse=True)
    try:
        assert st_config.get_option("server.enableXsrfProtection") is True
        assert st_config.get_option("client.showErrorDetails") == "none"
        assert st_config.get_option("client.toolbarMode") == "viewer"
        # Streamlit's default list trusts Community Cloud origins; ours is empty.
        assert st_config.get_option("client.allowedOrigins") == []
        assert st_config.get_option("server.enableCORS") is True
    finally:
        st_config.get_config_options(force_reparse=True)


def test_pages_never_write_query_parameters():
    """Selections (a citizen, a request, a household) live in session state, never in the URL."""
    writes = re.compile(r"query_params\s*(\[|\.(update|from_dict|__setitem__)|=)")
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "dashboard").rglob("*.py")
        if writes.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_a_session_through_every_page_leaves_no_query_parameters(app, demo_sqlite):
    from dashboard import registry

    at = app(demo_sqlite)
    at.user = {"is_logged_in": True, "sub": "demo-admin", "roles": ["admin"]}
    at.run()
    for spec in registry.pages_for_role("admin"):
        at.switch_page(f"views/{spec.file}")
        at.run()
        assert not at.exception, (spec.file, at.exception)
        assert dict(at.query_params) == {}, spec.file


def test_csv_downloads_are_spreadsheet_safe():
    """Every page that offers a CSV builds it with bosai.spreadsheet_safe."""
    offenders = []
    for path in (ROOT / "dashboard").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if "download_button" in text and "text/csv" in text:
            if not re.search(
                r"from bosai\.spreadsheet_safe import .*(to_csv_bytes|safe_frame)", text
            ):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
