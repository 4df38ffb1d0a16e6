"""The reference city OS: a FastAPI server implementing ``cityos/openapi.yaml`` over the demo
population, checking bearer tokens with a real OpenID Connect provider.

Run it with ``bosai cityos serve`` (or ``python -m cityos.reference_server``); tests run it
on a free loopback port in a thread (:class:`~cityos.reference_server.runner.ThreadedServer`)
or as a subprocess.
"""
