"""Named queries the pages use. Aggregate-only queries live here; anything that returns
personal data goes through :mod:`sql.policy` and takes a :class:`~sql.viewer.Viewer`."""
