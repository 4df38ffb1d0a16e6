"""reports.pdf: HTML templates (escaped) to PDF with Japanese fonts, margin boxes included."""

from __future__ import annotations

import subprocess

from reports.pdf import render_pdf, render_template


def pdf_text_and_fonts(data: bytes, tmp_path) -> tuple[str, list[str]]:
    path = tmp_path / "x.pdf"
    path.write_bytes(data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    return text, [line.split()[0] for line in fonts.stdout.splitlines()[2:]]


def test_data_never_becomes_markup():
    html = render_template("example.html", title="<script>x</script>", rows=[{"a": "<b>太字</b>"}])
    assert "<script>x" not in html and "&lt;script&gt;" in html
    assert "<b>太字" not in html and "&lt;b&gt;太字" in html


def test_japanese_body_and_margin_boxes_use_the_cjk_font(tmp_path):
    rows = [{"a": f"避難所 {i} 番・令和8年"} for i in range(120)]  # several pages
    data = render_pdf(
        render_template("example.html", title="防災報告書", rows=rows),
        metadata={"title": "防災報告書"},
    )
    text, fonts = pdf_text_and_fonts(data, tmp_path)
    assert "避難所 119 番・令和8年" in text
    pages = text.count("\f")
    assert pages >= 2
    assert f"1 / {pages} ページ" in text and f"{pages} / {pages} ページ" in text
    assert text.count("防災報告書") >= pages + 1, "the running title on every page"
    assert fonts and all("Noto-Sans-CJK-JP" in f for f in fonts), fonts


def test_extra_stylesheets_apply(tmp_path):
    data = render_pdf(
        render_template("example.html", title="横向き", rows=[]),
        stylesheets=["@page { size: A4 landscape; }"],
    )
    path = tmp_path / "l.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    width, height = (
        float(v) for v in info.stdout.split("Page size:")[1].split("pts")[0].split(" x ")
    )
    assert width > height
