"""Synthetic Japanese names with their kana (demo data only; never real people)."""

from __future__ import annotations

import numpy as np

FAMILY = (
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("渡部", "ワタナベ"),
    ("遠藤", "エンドウ"),
    ("星", "ホシ"),
    ("斎藤", "サイトウ"),
    ("高橋", "タカハシ"),
    ("小林", "コバヤシ"),
    ("伊藤", "イトウ"),
    ("五十嵐", "イガラシ"),
    ("菅野", "カンノ"),
    ("吉田", "ヨシダ"),
    ("渡辺", "ワタナベ"),
    ("佐々木", "ササキ"),
    ("長谷川", "ハセガワ"),
    ("山口", "ヤマグチ"),
    ("目黒", "メグロ"),
    ("穴澤", "アナザワ"),
    ("猪俣", "イノマタ"),
    ("小野", "オノ"),
    ("加藤", "カトウ"),
    ("二瓶", "ニヘイ"),
    ("大竹", "オオタケ"),
    ("石田", "イシダ"),
    ("山内", "ヤマウチ"),
    ("松本", "マツモト"),
    ("増子", "マシコ"),
    ("近藤", "コンドウ"),
    ("坂内", "バンナイ"),
    ("会田", "アイダ"),
)
GIVEN_FEMALE = (
    ("花子", "ハナコ"),
    ("幸子", "サチコ"),
    ("和子", "カズコ"),
    ("美咲", "ミサキ"),
    ("陽菜", "ヒナ"),
    ("結衣", "ユイ"),
    ("恵子", "ケイコ"),
    ("由美", "ユミ"),
    ("さくら", "サクラ"),
    ("優子", "ユウコ"),
    ("千尋", "チヒロ"),
    ("八重", "ヤエ"),
    ("葵", "アオイ"),
    ("真由美", "マユミ"),
    ("久子", "ヒサコ"),
    ("明美", "アケミ"),
)
GIVEN_MALE = (
    ("太郎", "タロウ"),
    ("一郎", "イチロウ"),
    ("健一", "ケンイチ"),
    ("翔太", "ショウタ"),
    ("大輔", "ダイスケ"),
    ("蓮", "レン"),
    ("悠真", "ユウマ"),
    ("誠", "マコト"),
    ("茂", "シゲル"),
    ("博", "ヒロシ"),
    ("勇気", "ユウキ"),
    ("隆", "タカシ"),
    ("浩二", "コウジ"),
    ("湊", "ミナト"),
    ("清", "キヨシ"),
    ("和也", "カズヤ"),
)


def family_names(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    idx = rng.integers(0, len(FAMILY), size=n)
    return [FAMILY[i] for i in idx]


def given_names(rng: np.random.Generator, sexes: np.ndarray) -> list[tuple[str, str]]:
    fem = rng.integers(0, len(GIVEN_FEMALE), size=len(sexes))
    mal = rng.integers(0, len(GIVEN_MALE), size=len(sexes))
    return [
        GIVEN_FEMALE[f] if s == "female" else GIVEN_MALE[m]
        for s, f, m in zip(sexes, fem, mal, strict=True)
    ]
