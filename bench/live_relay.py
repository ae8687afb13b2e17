"""Live events between replicas: what a busy cluster's ingests cost the other replicas.

    python bench/live_relay.py [--quick] [--runs 200] [--rate 6] [--seconds 5]

Two ``PostgresLiveHub``s on a throwaway PostgreSQL cluster, as two replicas. On the first,
``--runs`` live runs each publish an ingest event ``--rate`` times a second (5.7 requests/s is what
one live run's uploader sent before it coalesced) for ``--seconds``. The second watches one run's
page and one project's workspace, as a replica with one open browser does. Printed: the
notifications the second replica received and the CPU time it spent on them, beside what the hubs
did before (one notification per channel, two per ingest, each decoded by every replica),
counted from the same events.

Budget (issue 17): a replica's cost for others' events bounded by the live runs, not the requests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from load import postgres  # as the tests start one
from wakelog.server.live_pg import PostgresLiveHub
from wakelog.server.live_relay import COALESCE_SECONDS
from wakelog.store.ingest import IngestResult


async def scenario(url: str, runs: int, rate: float, seconds: float) -> dict[str, float]:
    sender, receiver = PostgresLiveHub(url), PostgresLiveHub(url)
    received = 0
    spent = 0.0
    receive = receiver.receive

    def timed_receive(message: str) -> None:
        nonlocal received, spent
        started = time.thread_time()
        receive(message)
        spent += time.thread_time() - started
        received += 1

    receiver.receive = timed_receive  # type: ignore[method-assign]
    published = 0
    try:
        async with (
            receiver.subscribe("run:team/p0/r0") as page,
            receiver.subscribe("project:team/p1") as table,
        ):
            tick = 1 / rate
            started = time.monotonic()
            while time.monotonic() - started < seconds:
                for run in range(runs):
                    result = IngestResult(published, run, run % 10, points=5, keys={"loss", "acc"})
                    sender.publish_ingest(("team", f"p{run % 10}", f"r{run}"), result)
                    published += 1
                await asyncio.sleep(tick)
            await asyncio.sleep(4 * COALESCE_SECONDS)  # the last interval, and the round trip
            delivered = page.qsize() + table.qsize()
    finally:
        await sender.close()
        await receiver.close()
    return {
        "published": published,
        "received": received,
        "ignored": receiver.ignored,
        "delivered": delivered,
        "cpu_ms": spent * 1000,
        "elapsed": time.monotonic() - started,
    }


def decode_before_ms(count: int) -> float:
    """What decoding ``count`` notifications of the former format (one JSON document each) costs."""
    event = {"type": "run_updated", "run_id": "r17", "ack": 4, "points": 5, "keys": ["acc", "loss"]}
    payload = json.dumps({"o": "0" * 32, "n": 1, "c": "project:team/p7", "e": event}, separators=(",", ":"))
    started = time.thread_time()
    for _ in range(count):
        json.loads(payload)
    return (time.thread_time() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 runs for 3 s")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--rate", type=float, default=6.0, help="ingests per run per second")
    parser.add_argument("--seconds", type=float)
    args = parser.parse_args()
    runs = args.runs or (50 if args.quick else 200)
    seconds = args.seconds or (3.0 if args.quick else 5.0)
    cluster, url = postgres()
    try:
        got = asyncio.run(scenario(url, runs, args.rate, seconds))
    finally:
        cluster.stop()
    before = 2 * got["published"]  # one notification per channel, each decoded by every replica
    before_ms = decode_before_ms(before)
    intervals = got["elapsed"] / COALESCE_SECONDS
    print(
        f"PostgreSQL LISTEN/NOTIFY, {runs} live runs × {args.rate:g} ingests/s for {seconds:g} s "
        f"({got['published']:,} ingest events)"
    )
    print(
        f"  notifications to the other replica: before {before:,.0f} (all decoded), "
        f"now {got['received']:,.0f} ({got['ignored']:,.0f} left undecoded): ratio now/before "
        f"{got['received'] / before:.3f}; bound runs × intervals = {runs * intervals:,.0f}"
    )
    print(
        f"  the receiving replica's CPU on them: before ≥ {before_ms:.1f} ms (decoding alone), "
        f"now {got['cpu_ms']:.1f} ms: ratio {got['cpu_ms'] / before_ms:.3f} "
        f"({got['cpu_ms'] * 1000 / max(got['received'], 1):.1f} µs per notification); "
        f"events handed to its 2 subscribers: {got['delivered']:,.0f}"
    )


if __name__ == "__main__":
    main()
