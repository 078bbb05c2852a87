"""How the inbox worker yields to the webhook under a burst (`Pressure`)."""

from __future__ import annotations

import time

import pytest

from bot.inbox.worker_pacing import Pressure


@pytest.mark.parametrize(
    ("arrivals", "quiet_for", "busy"),
    [(0, 0.0, False), (40, 0.0, False), (60, 0.0, True), (60, 0.05, True), (60, 0.25, False)],
    ids=["none", "a steady trickle", "a burst", "just after a burst", "a burst that ended"],
)
def test_pressure_counts_the_arrival_rate(arrivals: int, quiet_for: float, busy: bool) -> None:
    """Requests in flight drop to zero whenever a group commit answers them; the arrival rate over
    the last 0.1-0.2 s stays high for as long as a burst lasts (here: more than 500/s)."""
    pressure = Pressure()
    for _ in range(arrivals):
        pressure.arrived()
    time.sleep(quiet_for)
    assert pressure.in_flight == 0
    assert pressure.busy(limit=8, rate=500) is busy


@pytest.mark.anyio
@pytest.mark.parametrize(("in_flight", "waits"), [(0, False), (8, False), (9, True), (50, True)])
async def test_pressure_defers_replies_during_a_burst_but_not_forever(in_flight: int, waits: bool) -> None:
    pressure = Pressure()
    pressure.in_flight = in_flight
    start = time.monotonic()
    await pressure.calm(limit=8, max_wait=0.1)
    assert (time.monotonic() - start >= 0.09) is waits
