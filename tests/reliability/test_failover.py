"""The failover drill, short (``python -m benchmarks.failover`` for 20 s): the primary is
SIGKILLed under a live ingest at 2,000 updates/s with an HQ map session open in chromium, the
standby is promoted, the old primary rejoins with ``pg_rewind`` and the drill fails back —
no acknowledged write lost or stored twice, the ingest and the HQ map answer again, the audit
chain verifies on the new primary and at the end, both nodes hold the same content.
Figures are not asserted (the machine is shared): they are docs/SCALING.md's."""

from __future__ import annotations

import pytest

from tests.conftest import skip_or_fail
from tests.e2e.conftest import chromium_path  # noqa: F401 - the fixture (skips without chromium)

pytestmark = [pytest.mark.pg, pytest.mark.browser]


@pytest.mark.usefixtures("chromium_path")
def test_failover_drill_loses_nothing_and_fails_back():
    from benchmarks.failover import drill
    from deploy.pg_nodes import NodeError, bindir

    try:
        bindir()
    except NodeError as exc:
        skip_or_fail("PG", str(exc))

    result = drill(seconds=20, rate=2_000, sessions=1, citizens=1_000, seed=20110311)
    print("\n".join(result.lines()))
    assert result.errors == []
    assert result.updates_sent >= 40_000
    assert result.updates_stored == result.updates_sent
    assert (result.updates_lost, result.updates_duplicated) == (0, 0)
    assert result.staff_acknowledged > 0
    assert (result.staff_lost, result.staff_duplicated) == (0, 0)
    assert result.ingest_resumed_s is not None
    assert result.hq_state_answered_s is not None and result.map_answered_s is not None
    assert result.failback_map_answered_s is not None
    assert result.audit_ok_new_primary and result.audit_ok_end
    assert result.content_equal_end and result.final_primary == "node_a"
    assert result.ok
