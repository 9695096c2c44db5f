#!/usr/bin/env python3
"""Renders docs/reliability.md from the JSON lines the reliability suite writes.

Usage: render-reliability-report.py RESULTS.jsonl --wall-clock-seconds N --summary "N passed, N failed"
(eng/reliability-report.sh runs the suite and calls this). Prints Markdown on stdout.
"""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys

ORDER = ["S1", "S2a", "S2b", "S2c", "S3", "S4", "S5", "S6", "S7", "S8", "S9", "S10", "B1", "B2"]


def sh(*args):
    try:
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def machine():
    cores = os.cpu_count() or 0
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            kb = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1))
            memory = f"{kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, AttributeError):
        pass
    parts = [f"{cores} cores", model, memory, f"{platform.system()} {platform.release()}", f".NET SDK {sh('dotnet', '--version')}"]
    return ", ".join(p for p in parts if p)


def number(value):
    return "" if value is None else f"{value:,}"


def seconds(value):
    return "n/a" if value is None else f"{value:.1f} s"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("--wall-clock-seconds", type=int, default=None)
    parser.add_argument("--summary", default="")
    args = parser.parse_args()

    rows = {}
    if os.path.exists(args.results):
        with open(args.results, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    row = json.loads(line)
                    rows[row["id"]] = row
    ordered = [rows[i] for i in ORDER if i in rows] + [r for i, r in sorted(rows.items()) if i not in ORDER]

    commit = sh("git", "rev-parse", "--short", "HEAD")
    dirty = " (with uncommitted changes)" if sh("git", "status", "--porcelain") else ""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    wall = f"{args.wall_clock_seconds // 60} min {args.wall_clock_seconds % 60} s" if args.wall_clock_seconds is not None else "n/a"

    out = []
    w = out.append
    w("# Reliability: nothing lost, nothing exported twice")
    w("")
    w("This page is generated. Regenerate it with `eng/reliability-report.sh`: it runs")
    w("`eng/test.sh --filter \"FullyQualifiedName~Reliability\"` (the fault-injection suite in")
    w("[`tests/OrderExport.IntegrationTests/Reliability/`](../tests/OrderExport.IntegrationTests/Reliability/))")
    w("with `ORDEREXPORT_RELIABILITY_REPORT` set, and renders the numbers each scenario recorded.")
    w("")
    w(f"- **Run:** {now}, commit `{commit}`{dirty}")
    w(f"- **Machine:** {machine()}")
    w(f"- **Suite:** {len(ordered)} scenarios, {wall} wall-clock for the whole filtered run (build included); result: `{args.summary}`")
    w("")
    w("## The promise, and how it is counted")
    w("")
    w("Every scenario drives the real service (its real `Program`, hosted in memory) against a real PostgreSQL")
    w("database and a Kafka-protocol broker (librdkafka's embedded mock cluster; a private one for faults that")
    w("would disturb other tests), sends orders the way a client does (create, confirm, and for every fifth")
    w("order two more export requests, so each order has sequences 1-3 to keep in order), injects its fault,")
    w("waits until everything has drained, and then counts, reading PostgreSQL and Kafka directly:")
    w("")
    w("- **Events** are export requests: rows of `outbox_messages`, written in the same transaction as the confirm")
    w("  or re-export. That is the ground truth of what had to reach the platform. Every confirm a client saw")
    w("  answered 200 is checked to be in the database.")
    w("- **Exported once**: events the platform stored (the first `200` for their `Idempotency-Key`), and stored")
    w("  under one key only. Each service lifetime has its own fake platform; their records are merged as one")
    w("  platform (S10, whose instance is a process killed with SIGKILL, exports to one platform over HTTP).")
    w("- **Lost**: events neither exported nor dead-lettered. **Exported twice**: an export request the platform")
    w("  stored under two different keys. Both must be 0 in every scenario of the service.")
    w("- **Kafka duplicates**: extra records of an event id on `order-export` (at-least-once publishing at work).")
    w("  **Redelivered**: records the consumer received again after a crash (not extra records).")
    w("- **Duplicate platform calls**: calls answered `200` for a key the platform had already accepted. They are")
    w("  absorbed by the `Idempotency-Key` (exported once regardless); the suite bounds them where they can only")
    w("  come from the fault (one per interrupted record).")
    w("- **Per-order order**: for every order, the platform's first acceptances must carry increasing sequence")
    w("  numbers. **Left unpublished**: outbox rows never published (must be 0). **Dead-lettered** must match")
    w("  what the scenario expects (only unreadable records).")
    w("- **Drain**: from the end of the (last) fault until every event was exported or dead-lettered and nothing")
    w("  was left unpublished, polled every 25 ms. Where the clients were still sending when the fault ended, the")
    w("  drain includes the rest of their load (said in the notes).")
    w("")
    w("## Summary")
    w("")
    w("| | scenario | orders sent | events | exported once | lost | exported twice | Kafka duplicates | duplicate platform calls (absorbed) | dead-lettered | drain after the fault | duration |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in ordered:
        w(f"| {r['id']} | {r['title']} | {number(r['ordersSent'])} | {number(r['events'])} | {number(r['exportedOnce'])} | "
          f"**{number(r['lost'])}** | {number(r['exportedTwice'])} | {number(r['kafkaDuplicates'])} | {number(r['platformDuplicateCalls'])} | "
          f"{number(r['deadLettered'])} | {seconds(r.get('drainSeconds'))} | {seconds(r['durationSeconds'])} |")
    w("")

    b1, b2 = rows.get("B1"), rows.get("B2")
    if b1 and b2:
        share = 100.0 * b1["lost"] / b1["events"] if b1["events"] else 0
        w("### Baseline: the Spring sample's approach under the same crash")
        w("")
        w(f"The original sample committed the order and then sent the event to Kafka from an after-commit listener.")
        w(f"Run on the same crash schedule (B1 and B2: {b1['faults']}), it lost **{b1['lost']} of {b1['events']}** events")
        w(f"({share:.1f} %), silently: the orders are confirmed in the database and nothing will ever send their events.")
        w(f"The service lost **{b2['lost']} of {b2['events']}**: its events were outbox rows committed with the orders,")
        w("and the next lifetime published them.")
        w("")

    w("## Scenarios")
    for r in ordered:
        w("")
        w(f"### {r['id']}: {r['title']}")
        w("")
        w(f"Test: `{r['test']}`")
        w("")
        w("| | |")
        w("|---|---|")
        w(f"| faults injected | {r['faults']} |")
        w(f"| orders sent | {number(r['ordersSent'])} |")
        w(f"| events (export requests) | {number(r['events'])} |")
        w(f"| exported once | {number(r['exportedOnce'])} |")
        w(f"| lost | **{number(r['lost'])}** |")
        w(f"| exported twice | {number(r['exportedTwice'])} |")
        w(f"| duplicates that reached Kafka | {number(r['kafkaDuplicates'])} |")
        if r.get("redelivered"):
            w(f"| records redelivered to the consumer | {number(r['redelivered'])} |")
        w(f"| duplicate platform calls (absorbed by the Idempotency-Key) | {number(r['platformDuplicateCalls'])} |")
        w(f"| dead-lettered | {number(r['deadLettered'])} |")
        w(f"| left unpublished in the outbox | {number(r['unpublished'])} |")
        w(f"| time to drain after the fault ended | {seconds(r.get('drainSeconds'))} |")
        w(f"| scenario duration | {seconds(r['durationSeconds'])} |")
        if r.get("notes"):
            w(f"| notes | {r['notes']} |")

    w("")
    w(TAIL)
    sys.stdout.write("\n".join(out) + "\n")


TAIL = """## Issues this suite found

Three were service bugs, fixed in commit `47cf30c`; the scenarios that found them now guard against their
return. None of them lost or duplicated an export.

- **K1 (fixed): the service could not stop cleanly after a database outage.** `PostgresOutboxListener`
  handed the host's stopping token to `NpgsqlConnection.WaitAsync` on a pooled connection; after connections
  were cut, Npgsql 10.0.0 could leave that token's cancellation callback on a connector it had already
  cleaned up (upstream: npgsql/npgsql#6415, #6568; our mirror has no newer 10.x). Stopping then threw
  `ObjectDisposedException` out of the host's `StopAsync`, or never interrupted the wait, so the host gave
  up after its shutdown timeout. Seen in 2 of 3 isolated runs of S6; a copy of the old loop run beside the
  service hung in 3 of 4 runs, the new one (its own unpooled connection, waiting in one-second slices
  without the stopping token) never. S3 and S6 now require the service to stop within 4.5 s after their
  outages. Still possible, and harmless: the same Npgsql bug surfacing as one `ObjectDisposedException`
  in a relay round or a consumer attempt on a pooled connection; both retry.
- **K2 (fixed): JSON bodies with duplicate properties were accepted**, the last value winning
  (`{"customerId":"a","customerId":"b"}` created an order for `b`; `{"amount":-1,"amount":10}` passed
  validation), where a proxy reading the first value would disagree. Now refused with 400
  (`AllowDuplicateProperties = false`); the three cases are in the S8 corpus.
- **K3 (fixed): customer ids with characters outside the Basic Multilingual Plane were refused** as
  "control characters" (an emoji, or a CJK extension-B character such as 𠮷 used in Japanese names):
  `\\p{C}` includes every UTF-16 surrogate. The pattern is now `^[^\\p{Cc}\\p{Cf}\\u2028\\u2029]+$`; S8 exports
  such a customer id verbatim.
- **Tooling (fixed in `8c969f9`): `eng/test.sh` printed `0 skipped`** when tests were skipped: it read the
  TRX `notExecuted` counter, which stays 0 for xUnit skips; skipped tests are `total - executed` there.

Not a defect, noted: `POST /orders/{unknown id}/dead-letters/replay` answers `202 []` (nothing to replay)
rather than 404. S3 was briefly skipped as flaky at `47cf30c` ("the consumer stalled at about 95 %"): its
drain is slow rather than stuck (see Drains below); it now waits up to 240 s and, if it ever times out,
reports its progress history and the consumer's lag per partition.

## Scale, settings and limits

- **Counts** are chosen so the whole suite runs in a few minutes on a 2-core CI machine that also runs the
  rest of the tests: 400-600 orders per scenario (plus 2 re-exports for every fifth order, so 560-840
  events), about 4,000 orders and 5,600 events in all. The consumer handles its three partitions side by side, one
  record at a time each; sharing two cores with everything else it is still the pace-maker of every drain.
- **Settings** are the service's own, with the integration-test defaults of `OrderExportApp` (relay retry
  0.1-1 s, platform attempt timeout 0.5 s, 3 retries, total 3 s, one delivery round); scenarios that change
  more say so in their notes. Drain times therefore reflect those settings and this machine, not production.
  The suite gives each service lifetime a 5 s shutdown timeout (instead of 30 s): a service that ignores its
  stopping token shows up as a failed stop-time check, not a stalled suite.
- **Drains** after database faults (S3, S6) are mostly waiting, not work: the consumer retries the record in
  hand with exponential backoff capped by `Consumer:InfrastructureRetryMaxDelay` (30 s, the service's
  default, kept here). Repeated cuts push it towards the cap, so each partition's worker may sleep up to 30 s
  after the database is back before it catches up. A lower cap recovers sooner at the price of more
  attempts against a database that is still down.
- **The broker** is librdkafka's mock cluster: the real protocol (idempotent produce, consumer groups,
  commits), not a real Kafka's failure modes (ISR shrinkage, unclean elections). Broker faults are what the
  mock can do: a broker down, partition leadership moved to another broker (S2c), and error codes pushed
  onto requests. It does not check an idempotent producer's sequence numbers (only a transactional one's):
  it appends a request pipelined behind one it failed by a pushed error, where a real broker rejects it,
  and librdkafka then takes the failed batch as acknowledged. S2a, which pushes retriable errors, therefore
  runs with one produce request in flight; S2c makes retriable errors the way a cluster does, at the
  default of five. The same gap means the mock keeps a retried batch twice where a real broker would
  drop the duplicate, so its "Kafka duplicates" can exceed a real cluster's.
- **The platform** is the fake the service ships with, reached over HTTP through the service's real client
  and resilience pipeline; "stored" means its idempotency store accepted the key.
- **Crashes** are produced from outside, without hooks in the service: a TCP proxy that cuts the database
  under the relay's open claim (S3), failing offset commits plus a stopped lifetime (S4), the broker
  becoming unreachable before a lifetime ends (B1/B2). See each test's comments for how the window is hit.
"""

if __name__ == "__main__":
    main()
