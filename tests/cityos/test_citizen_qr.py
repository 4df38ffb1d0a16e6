"""The app's QR code: the payload, and reading it from a camera photo (rotated, blurred,
JPEG) as ``st.camera_input`` hands it over."""

from __future__ import annotations

import io

import segno
from PIL import Image, ImageFilter

from cityos.citizen_qr import decode_image, decoder_available, encode, parse


def photo_of(text: str) -> bytes:
    code = segno.make(text, error="m")
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=8, border=4)
    image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB").resize((260, 260))
    desk = Image.new("RGB", (640, 480), (180, 170, 160))
    desk.paste(image.rotate(12, expand=True, fillcolor=(180, 170, 160)), (180, 100))
    out = io.BytesIO()
    desk.filter(ImageFilter.GaussianBlur(1.2)).save(out, format="JPEG", quality=80)
    return out.getvalue()


def test_a_photo_of_the_code_gives_the_subject():
    assert decoder_available()
    text = encode("072028", "demo-20220311-0000123")
    [read] = decode_image(photo_of(text))
    code = parse(read)
    assert code.subject == "demo-20220311-0000123" and code.is_for("072028")


def test_other_cities_and_other_texts():
    assert not parse(encode("172022", "someone")).is_for("072028")
    for text in ("", "demo-1", "cityos-user:2:072028:x", "cityos-user:1:07202:x", "http://x"):
        assert parse(text) is None


def test_a_photo_without_a_code_reads_nothing():
    blank = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 200, 200)).save(blank, format="PNG")
    assert decode_image(blank.getvalue()) == []
