"""Readers for the public data formats headquarters work with.

Each reader turns one format into plain records plus a list of problems
(``FILE:ROW:COLUMN: reason``); nothing here touches the database. The write side lives in
:mod:`sql.imports`, the commands in :mod:`bosai.cli.imports`.

The input-file plumbing is one of each, also used by the questionnaire reader
(:mod:`surveys.reader`): :mod:`~importers.text_encoding` decodes (UTF-8, UTF-8 with BOM, CP932;
anything else is refused with the file and line), :mod:`~importers.problems` is the problem
type (file, row, column, reason, level, code) and the whole-file refusal,
:mod:`~importers.table_reader` reads CSV (and GeoJSON points) into rows with line numbers.

===========================  ==============================================================
module                       reads
===========================  ==============================================================
``shelters``                 any shelter file: picks the GSI or the standard reader
``shelters_gsi``             国土地理院 指定緊急避難場所 / 指定避難所 (GeoJSON, CSV)
``shelters_standard``        デジタル庁 自治体標準オープンデータセット 指定緊急避難場所一覧
``occupancy``                open-shelter snapshots with head counts (e.g. 七尾市 2024)
``hazard_zones``             国土数値情報 A31/A31a/A31b (flood) and A33 (landslide)
``jma_warnings``             気象庁防災情報XML 気象警報・注意報 (VPWW54; VPWW53 skipped)
===========================  ==============================================================
"""
