"""The citizen's app QR code: who is standing at the reception desk.

The app shows a QR code carrying the citizen's city-OS subject, prefixed with the scheme and
the municipality code (全国地方公共団体コード, six digits) of the city OS that issued it::

    cityos-user:1:072028:demo-20220311-0000123

(``1`` is the payload version). A handheld or USB scanner types this text into the reception
page; the camera path decodes a photo with :func:`decode_image` first. A code of another
municipality is recognised and refused by name (the person is received as a walk-in); any
other text is refused as not a user code.

>>> parse("cityos-user:1:072028:demo-20220311-0000123")
CitizenCode(municipality_code='072028', subject='demo-20220311-0000123')
>>> parse(" cityos-user:1:172022:abc\\r\\n").municipality_code
'172022'
>>> parse("https://example.org") is None
True
"""

from __future__ import annotations

import dataclasses
import io
import re

SCHEME = "cityos-user"
_CODE = re.compile(r"^cityos-user:1:(\d{6}):([A-Za-z0-9._\-@:]{1,64})$")


@dataclasses.dataclass(frozen=True)
class CitizenCode:
    municipality_code: str
    subject: str

    def is_for(self, municipality_code: str) -> bool:
        return self.municipality_code == municipality_code


def encode(municipality_code: str, subject: str) -> str:
    """The text of a citizen's QR code (what the app shows).

    >>> encode("072028", "demo-1")
    'cityos-user:1:072028:demo-1'
    """
    return f"{SCHEME}:1:{municipality_code}:{subject}"


def parse(text: str) -> CitizenCode | None:
    """The code in ``text`` (as a scanner typed it), or None when it is not a user code."""
    value = (text or "").strip()
    match = _CODE.match(value)
    if match:
        return CitizenCode(match.group(1), match.group(2))
    return None


def decode_image(data: bytes) -> list[str]:
    """Texts of the QR codes in a photo (PNG or JPEG bytes), e.g. from ``st.camera_input``.

    Uses zxing-cpp (a self-contained wheel from PyPI; no pure-Python decoder reads QR codes
    from camera photos — purepix, the pure-Python one, reads only clean, upright renders).
    Raises :class:`ImportError` when zxing-cpp or Pillow is not installed.
    """
    import zxingcpp
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.load()
    return [r.text for r in zxingcpp.read_barcodes(image) if r.text]


def decoder_available() -> bool:
    try:
        import zxingcpp  # noqa: F401
        from PIL import Image  # noqa: F401
    except ImportError:
        return False
    return True
