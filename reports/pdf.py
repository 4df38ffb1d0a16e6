"""HTML → PDF with Japanese text: one WeasyPrint set-up for every report.

A report is a Jinja2 template (``reports/templates/*.html``, autoescaped: data never becomes
markup) rendered into :data:`BASE_CSS`'s A4 page. The font is Noto Sans CJK JP
(Debian ``fonts-noto-cjk``), named for the body *and* for the ``@page`` margin boxes — they do
not inherit the body's font, and without it the running header and the page numbers fall back
to a font without Japanese glyphs (boxes). :func:`render_pdf` refuses to run when fontconfig
has no Japanese font, rather than writing a PDF of boxes.

>>> html = render_template("example.html", title="試験", rows=[{"a": "<b>あ</b>"}])
>>> "&lt;b&gt;" in html
True
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from bosai.errors import BosaiError

TEMPLATES = Path(__file__).with_name("templates")
#: Font families in order of preference (fonts-noto-cjk provides the first).
JAPANESE_FONTS = ('"Noto Sans CJK JP"', '"Noto Sans JP"', '"IPAexGothic"')
FONT_STACK = ", ".join((*JAPANESE_FONTS, "sans-serif"))

BASE_CSS = f"""
@page {{
  size: A4;
  margin: 22mm 16mm 20mm 16mm;
  @top-left {{
    content: string(report-title);
    font-family: {FONT_STACK};
    font-size: 8pt;
    color: #555;
  }}
  @top-right {{
    content: string(report-date);
    font-family: {FONT_STACK};
    font-size: 8pt;
    color: #555;
  }}
  @bottom-center {{
    content: counter(page) " / " counter(pages) " ページ";
    font-family: {FONT_STACK};
    font-size: 8pt;
    color: #555;
  }}
}}
html {{ font-family: {FONT_STACK}; font-size: 10pt; line-height: 1.55; color: #111; }}
h1 {{ font-size: 16pt; margin: 0 0 4mm 0; string-set: report-title content(); }}
h2 {{ font-size: 12pt; margin: 6mm 0 2mm 0; }}
.report-date {{ string-set: report-date content(); }}
p, li {{ margin: 0 0 2mm 0; }}
table {{ border-collapse: collapse; width: 100%; font-size: 8.5pt; }}
thead {{ display: table-header-group; }}
th, td {{ border: 0.4pt solid #888; padding: 1.2mm 1.6mm; vertical-align: top; text-align: left; }}
th {{ background: #eef1f5; font-weight: bold; }}
tr {{ page-break-inside: avoid; }}
.meta td {{ border: none; padding: 0.6mm 2mm 0.6mm 0; }}
.note {{ font-size: 8.5pt; color: #333; }}
.bad {{ color: #b2182b; font-weight: bold; }}
"""


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_template(name: str, **values: Any) -> str:
    """The HTML of template ``name`` (in ``reports/templates/``) with ``values``, escaped."""
    return _environment().get_template(name).render(**values)


def japanese_font_available() -> bool:
    """True when fontconfig finds a Japanese font of :data:`JAPANESE_FONTS`."""
    if shutil.which("fc-list") is None:
        return False
    result = subprocess.run(
        ["fc-list", ":lang=ja", "family"], capture_output=True, text=True, check=False
    )
    families = result.stdout
    return any(f.strip('"') in families for f in JAPANESE_FONTS)


def render_pdf(
    html: str,
    *,
    stylesheets: Sequence[str] = (),
    metadata: Mapping[str, str] | None = None,
) -> bytes:
    """``html`` as PDF bytes on A4 with :data:`BASE_CSS` and any extra ``stylesheets`` (CSS
    text). ``metadata`` sets attributes of the PDF's metadata (``title``, ``authors``, ``description``, ``lang``)."""
    if not japanese_font_available():
        raise BosaiError(
            "no Japanese font found for PDF output: install fonts-noto-cjk "
            "(apt-get install fonts-noto-cjk)"
        )
    import weasyprint

    css = [weasyprint.CSS(string=BASE_CSS), *(weasyprint.CSS(string=s) for s in stylesheets)]
    document = weasyprint.HTML(string=html, base_url=str(TEMPLATES)).render(stylesheets=css)
    for key, value in (metadata or {}).items():
        setattr(document.metadata, key, value)
    return document.write_pdf()
