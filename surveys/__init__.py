"""Questionnaires: instruments as data files, import of real exports, validation, scoring.

* :mod:`surveys.instrument` — load and check an instrument (``surveys/instruments/*.yaml``).
* :mod:`surveys.reader` — read Google Forms / Microsoft Forms / Kobo exports (CSV or XLSX;
  UTF-8, UTF-8 with BOM or CP932; decoded and parsed by the importers' decoder and CSV reader).
* :mod:`surveys.parse` — match columns to items, parse answers, build the validation report.
* :mod:`surveys.validate` — a file read and validated (no database); the store side, the
  atomic and idempotent import, is :mod:`sql.imports.surveys`.
* :mod:`surveys.scoring` — item and subscale scores with reverse coding.
* :mod:`surveys.timing_sheet` — UI/UX task-timing sheets.
"""
