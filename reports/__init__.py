"""Reports that leave the system as files: HTML templates rendered to PDF with Japanese fonts
(:mod:`reports.pdf`), spreadsheet-safe CSV, and the reports themselves (the citizen's access
report; the council reports build on the same PDF set-up)."""
