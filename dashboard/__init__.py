"""The Streamlit app: ``streamlit run dashboard/app.py``. Pages live in ``dashboard/views/``."""
