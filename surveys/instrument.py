"""Questionnaire instruments as data files (``surveys/instruments/<id>.yaml``).

An instrument lists its items: ``id``, ``type`` (``likert5``, ``likert7``, ``single``,
``multiple``, ``text``, ``number``, ``duration``), ``text`` in Japanese and English, an optional
``reverse`` flag (Likert items scored ``min + max − x``), ``subscale``, ``options`` for choice
items (``code``, ``ja``, ``en``, ``aliases``), ``aliases`` (other column headers that mean the
item), ``maps_to`` (``participant_type``, ``age_band`` or ``sex``: copied onto the response) and
``min``/``max`` for numbers and durations (seconds).

>>> sus = load_instrument("sus")
>>> len(sus.items), sus.scoring
(10, 'sus')
>>> sus.item("sus02").reverse
True
>>> [i.id for i in load_instrument("drill-2022").subscale_items("acceptance")]
['accept_continue', 'accept_recommend', 'accept_trust']
"""

from __future__ import annotations

import dataclasses
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bosai.errors import InvalidInputError

INSTRUMENTS_DIR = Path(__file__).with_name("instruments")
SCALES_FILE = INSTRUMENTS_DIR / "scales.yaml"

ITEM_TYPES = ("likert5", "likert7", "single", "multiple", "text", "number", "duration")
LIKERT_SCALES = {"likert5": "agree5", "likert7": "agree7"}
MAPS_TO = ("participant_type", "age_band", "sex")


def normalise(text: Any) -> str:
    """Text as compared on import: NFKC (full-width → half-width), no spaces, lower case.

    >>> normalise("  とても　そう思う ")
    'とてもそう思う'
    >>> normalise("Ｑ１．年代")
    'q1.年代'
    """
    out = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return "".join(out.split())


@dataclasses.dataclass(frozen=True)
class Option:
    code: str
    ja: str
    en: str
    aliases: tuple[str, ...] = ()

    def label(self, lang: str = "ja") -> str:
        return self.en if lang == "en" and self.en else self.ja


@dataclasses.dataclass(frozen=True)
class Item:
    id: str
    type: str
    text_ja: str
    text_en: str
    reverse: bool = False
    subscale: str | None = None
    options: tuple[Option, ...] = ()
    aliases: tuple[str, ...] = ()
    maps_to: str | None = None
    min: float | None = None
    max: float | None = None

    @property
    def is_likert(self) -> bool:
        return self.type in LIKERT_SCALES

    @property
    def points(self) -> int | None:
        """Number of scale points of a Likert item (5 or 7)."""
        return int(self.type[-1]) if self.is_likert else None

    def text(self, lang: str = "ja") -> str:
        return self.text_en if lang == "en" and self.text_en else self.text_ja

    def option(self, code: str) -> Option | None:
        return next((o for o in self.options if o.code == code), None)


@dataclasses.dataclass(frozen=True)
class Instrument:
    id: str
    version: str
    title_ja: str
    title_en: str
    items: tuple[Item, ...]
    subscales: dict[str, dict[str, str]]
    scoring: str = "mean"
    definition: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False)

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def title(self, lang: str = "ja") -> str:
        return self.title_en if lang == "en" and self.title_en else self.title_ja

    def subscale_items(self, name: str) -> list[Item]:
        return [i for i in self.items if i.subscale == name]

    def subscale_label(self, name: str, lang: str = "ja") -> str:
        entry = self.subscales.get(name, {})
        return entry.get(lang) or entry.get("ja") or name

    @property
    def likert_items(self) -> list[Item]:
        return [i for i in self.items if i.is_likert]


@cache
def scales() -> dict[str, dict[int, tuple[str, ...]]]:
    """``{"agree5": {5: ("とてもそう思う", ...), ...}, ...}`` from ``scales.yaml``."""
    raw = yaml.safe_load(SCALES_FILE.read_text(encoding="utf-8"))
    return {
        name: {int(k): tuple(v) for k, v in spec["labels"].items()} for name, spec in raw.items()
    }


def scale_label(item: Item, value: int) -> str:
    """The Japanese label shown for ``value`` of a Likert item.

    >>> scale_label(load_instrument("sus").item("sus01"), 1)
    '全くそう思わない'
    """
    return scales()[LIKERT_SCALES[item.type]][int(value)][0]


def available() -> list[str]:
    """Ids of the instruments shipped in ``surveys/instruments``."""
    return sorted(p.stem for p in INSTRUMENTS_DIR.glob("*.yaml") if p.stem != "scales")


def _problem(source: str, where: str, reason: str) -> str:
    return f"{source}:{where}: {reason}"


def parse_instrument(raw: dict[str, Any], source: str = "instrument") -> Instrument:
    """Check and build an instrument from its YAML mapping (errors name the item)."""
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{source}: not an instrument", [f"{source}:1: expected a mapping"])
    for key in ("id", "version", "title", "items"):
        if key not in raw:
            problems.append(_problem(source, key, "missing"))
    if problems:
        raise InvalidInputError(f"{source}: invalid instrument", problems)
    subscales = raw.get("subscales") or {}
    items: list[Item] = []
    seen: set[str] = set()
    for n, spec in enumerate(raw["items"], start=1):
        where = f"items[{n}]"
        if not isinstance(spec, dict) or "id" not in spec:
            problems.append(_problem(source, where, "an item needs an id"))
            continue
        item_id = str(spec["id"])
        where = f"items[{n}] {item_id}"
        if item_id in seen:
            problems.append(_problem(source, where, "item id used twice"))
        seen.add(item_id)
        kind = spec.get("type")
        if kind not in ITEM_TYPES:
            problems.append(_problem(source, where, f"type must be one of {', '.join(ITEM_TYPES)}"))
            continue
        text = spec.get("text") or {}
        if not text.get("ja"):
            problems.append(_problem(source, where, "text.ja is required"))
        options = tuple(
            Option(
                code=str(o["code"]),
                ja=str(o.get("ja", o["code"])),
                en=str(o.get("en", "")),
                aliases=tuple(str(a) for a in o.get("aliases", ())),
            )
            for o in spec.get("options", ())
        )
        if kind in ("single", "multiple") and not options:
            problems.append(_problem(source, where, "a choice item needs options"))
        if spec.get("reverse") and kind not in LIKERT_SCALES:
            problems.append(_problem(source, where, "only Likert items can be reverse-coded"))
        subscale = spec.get("subscale")
        if subscale is not None and subscale not in subscales:
            problems.append(_problem(source, where, f"subscale {subscale!r} is not declared"))
        maps_to = spec.get("maps_to")
        if maps_to is not None and (maps_to not in MAPS_TO or kind != "single"):
            problems.append(
                _problem(source, where, f"maps_to must be one of {MAPS_TO} on a single-choice item")
            )
        items.append(
            Item(
                id=item_id,
                type=kind,
                text_ja=str(text.get("ja", "")),
                text_en=str(text.get("en", "")),
                reverse=bool(spec.get("reverse", False)),
                subscale=subscale,
                options=options,
                aliases=tuple(str(a) for a in spec.get("aliases", ())),
                maps_to=maps_to,
                min=float(spec["min"]) if spec.get("min") is not None else None,
                max=float(spec["max"]) if spec.get("max") is not None else None,
            )
        )
    scoring = raw.get("scoring", "mean")
    if scoring not in ("mean", "sus"):
        problems.append(_problem(source, "scoring", "must be 'mean' or 'sus'"))
    if scoring == "sus" and [i.type for i in items] != ["likert5"] * 10:
        problems.append(_problem(source, "scoring", "SUS scoring needs exactly ten 5-point items"))
    if problems:
        raise InvalidInputError(f"{source}: invalid instrument", problems)
    title = raw["title"] if isinstance(raw["title"], dict) else {"ja": str(raw["title"])}
    return Instrument(
        id=str(raw["id"]),
        version=str(raw["version"]),
        title_ja=str(title.get("ja", raw["id"])),
        title_en=str(title.get("en", "")),
        items=tuple(items),
        subscales={k: dict(v) for k, v in subscales.items()},
        scoring=scoring,
        definition=raw,
    )


@cache
def _load_path(path: Path) -> Instrument:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{path.name}: not valid YAML", [f"{path.name}:1: {exc}"]) from exc
    return parse_instrument(raw, path.name)


def load_instrument(ref: str | Path) -> Instrument:
    """An instrument by id (``drill-2022``, ``sus``) or from a YAML file path."""
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return _load_path(path.resolve())
    candidate = INSTRUMENTS_DIR / f"{ref}.yaml"
    if str(ref) == "scales" or not candidate.is_file():
        raise InvalidInputError(
            f"unknown instrument {ref!r}; shipped instruments: {', '.join(available())}"
        )
    return _load_path(candidate)
