"""Code lists of 国土数値情報 hazard data: flood depth ranks (A31) and landslide zones (A33).

Sources: the 国土数値情報 download-service pages for A31 (洪水浸水想定区域, 第1.1版 2012 to
第4.0版 2022 and the A31a river-unit / A31b mesh editions) and A33 (土砂災害警戒区域). Where
the published code lists could not be checked from here, the values follow the attribute
tables used by the public tools that read these files; each such assumption is marked below.

Attribute layout assumed per edition (``X`` = scenario: 1 計画規模, 2 想定最大規模):

=======  ========================  ======================================================
edition  depth rank attribute      other attributes kept
=======  ========================  ======================================================
A31a     ``A31a_X05``              ``A31a_X01`` river code, ``A31a_X02`` river name,
                                   ``A31a_X03``/``X04`` (manager) as attributes
A31b     ``A31b_X01``              (mesh data; everything else kept as attributes)
A31      ``A31_X01``  (2019–21)    —
A31      ``A31_001``  (2012)       codes 11–15 or 21–27 (two rank systems of that edition)
=======  ========================  ======================================================

``A31*_3xx`` (浸水継続時間, flood duration) and ``A31*_4xx`` (家屋倒壊等氾濫想定区域) are not
depth zones and are refused with that reason.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class DepthRank:
    code: str
    label: str  # as people read it: 「0.5m以上3.0m未満」
    depth_min_m: float
    depth_max_m: float | None  # None: no upper bound


def _rank(code: str, low: float, high: float | None) -> DepthRank:
    if high is None:
        label = f"{low:.1f}m以上"
    elif low == 0:
        label = f"{high:.1f}m未満"
    else:
        label = f"{low:.1f}m以上{high:.1f}m未満"
    return DepthRank(code, label, low, high)


def _ranks(first_code: int, bounds: tuple[float, ...]) -> dict[str, DepthRank]:
    """Depth ranks by code, numbered from ``first_code``: one between each two successive
    ``bounds`` (metres), the last from the highest bound up."""
    highs = (*bounds[1:], None)
    return {
        str(code): _rank(str(code), low, high)
        for code, low, high in zip(
            range(first_code, first_code + len(bounds)), bounds, highs, strict=True
        )
    }


#: 浸水深ランク (A31 2019+, A31a, A31b): the national standard six ranks.
WATER_DEPTH_RANKS: dict[str, DepthRank] = _ranks(1, (0.0, 0.5, 3.0, 5.0, 10.0, 20.0))

#: A31 第1.1版 (2012): two rank systems appear in that edition. Assumption: 11–15 are the
#: five-rank system (0.5/1/2/5 m steps), 21–27 the seven-rank system (0.5/1/2/3/4/5 m steps).
WATER_DEPTH_RANKS_2012: dict[str, DepthRank] = {
    **_ranks(11, (0.0, 0.5, 1.0, 2.0, 5.0)),
    **_ranks(21, (0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0)),
}

#: A33_001 現象の種類.
LANDSLIDE_PHENOMENA = {"1": "急傾斜地の崩壊", "2": "土石流", "3": "地すべり"}

#: A33_002 区域区分. 1 and 2 are the designated zones. Assumption: 3 and 4 are the same two
#: zones published from the basic survey before designation (基礎調査結果の公表), which the 2024
#: files contain; they are kept, with their meaning, rather than refused.
LANDSLIDE_ZONES = {
    "1": "土砂災害警戒区域",
    "2": "土砂災害特別警戒区域",
    "3": "土砂災害警戒区域（指定前・基礎調査結果）",
    "4": "土砂災害特別警戒区域（指定前・基礎調査結果）",
}
#: How severe each zone is, for picking the worst zone a point lies in.
LANDSLIDE_ZONE_SEVERITY = {"1": 1.0, "2": 2.0, "3": 1.0, "4": 2.0}

SCENARIOS = {"1": "planned", "2": "max"}  # 計画規模, 想定最大規模
NOT_DEPTH_LAYERS = {"3": "浸水継続時間", "4": "家屋倒壊等氾濫想定区域"}


def code_text(value: object) -> str:
    """A code as text: 2, 2.0 and "2" are all "2"."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer():
            return str(int(value))
    return str(value).strip()
