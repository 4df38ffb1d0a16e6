"""Running Bosai Ops past one machine: PostgreSQL nodes (primary, streaming standby, failover,
point-in-time recovery) and the HTTPS proxy in front of several Streamlit processes, with the
service units that run them (``deploy/systemd/``)."""
