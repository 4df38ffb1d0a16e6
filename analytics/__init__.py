"""Pure, tested analysis functions on DataFrames (no database, no Streamlit)."""
