"""気象庁防災情報XML: the code lists the warnings importer checks against.

Warning kinds are JMA's 「警報等情報要素／警報・注意報種別」 codes (気象警報・注意報). A Kind
without Name and Code appears with the status 「発表警報・注意報はなし」; it is stored as code
``00`` (JMA's code for 解除/なし).
"""

from __future__ import annotations

NO_WARNING_CODE = "00"
NO_WARNING_NAME = "警報・注意報なし"

WARNING_KINDS: dict[str, str] = {
    "00": "解除",
    "02": "暴風雪警報",
    "03": "大雨警報",
    "04": "洪水警報",
    "05": "暴風警報",
    "06": "大雪警報",
    "07": "波浪警報",
    "08": "高潮警報",
    "10": "大雨注意報",
    "12": "大雪注意報",
    "13": "風雪注意報",
    "14": "雷注意報",
    "15": "強風注意報",
    "16": "波浪注意報",
    "17": "融雪注意報",
    "18": "洪水注意報",
    "19": "高潮注意報",
    "20": "濃霧注意報",
    "21": "乾燥注意報",
    "22": "なだれ注意報",
    "23": "低温注意報",
    "24": "霜注意報",
    "25": "着氷注意報",
    "26": "着雪注意報",
    "27": "その他の注意報",
    "32": "暴風雪特別警報",
    "33": "大雨特別警報",
    "35": "暴風特別警報",
    "36": "大雪特別警報",
    "37": "波浪特別警報",
    "38": "高潮特別警報",
}

#: ``Warning@type`` of each area level in VPWW54, and the city's area-code level it matches.
WARNING_LEVELS: dict[str, str] = {
    "気象警報・注意報（市町村等）": "municipality",
    "気象警報・注意報（市町村等をまとめた地域等）": "group",
    "気象警報・注意報（一次細分区域等）": "subdivision",
    "気象警報・注意報（府県予報区等）": "prefecture",
}

#: Control/Title of the current format (VPWW54) and of the old one (VPWW53), which repeats the
#: same warnings and is skipped so that nothing is counted twice.
VPWW54_TITLE = "気象警報・注意報（Ｈ２７）"
VPWW53_TITLE = "気象特別警報・警報・注意報"
WARNING_INFO_KIND = "気象警報・注意報"
