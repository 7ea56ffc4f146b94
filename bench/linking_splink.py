"""Person resolution against Splink on the same mentions, side by side (人员归一 对比 Splink).

The mentions are ``bench/linking_scale.py``'s synthetic population (homophones, 繁体 and
look-alike characters, polite forms, missing IDs, second phones, several address styles).
The parent writes them to one CSV with the features both sides use; each side then runs in
a process of its own — govhub's :class:`~domain.linking.PersonResolver`, and Splink 5 on
DuckDB (``bench/splink/splink_side.py``, in Splink's own environment: it is not a govhub
dependency) — and both are scored with the same pairwise precision and recall. The time is
the resolution alone (loading the CSV excluded on both sides), as wall time and as CPU time
(user + system of all the process's threads: DuckDB runs several, govhub one; on a shared
machine CPU time is the steadier figure); RSS is each process's peak.

    python3 -m venv bench/.splink && bench/.splink/bin/pip install splink==5.0.0
    .venv/bin/python bench/linking_splink.py --mentions 100000 1000000 \
        --splink-python bench/.splink/bin/python
"""

from __future__ import annotations

import argparse
import csv
import math
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from domain.linking import MentionFacts, PersonResolver
from domain.linking.names import name_key
from domain.linking.places import address_parts, canonical_region
from domain.linking.scoring import pairwise_score

_FIELDS = (
    "mention_id",
    "record_id",
    "written",
    "name",
    "pinyin",
    "id_index",
    "phone_index",
    "birth_date",
    "region",
    "county",
    "address",
    "house",
    "truth",
)


def write_mentions(path: Path, count: int) -> None:
    from linking_scale import synthetic_mentions

    mentions, truth = synthetic_mentions(count)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(_FIELDS)
        for m, person in zip(mentions, truth, strict=True):
            key = name_key(m.name)
            region = canonical_region(m.region_code)
            writer.writerow(
                [
                    m.mention_id,
                    m.record_id,
                    m.name,
                    key.simplified,
                    "|".join(key.pinyin),
                    m.id_index or "",
                    m.phone_index or "",
                    m.birth_date or "",
                    region or "",
                    region[:6] if region else "",
                    m.address or "",
                    address_parts(m.address).house_key or "",
                    person,
                ]
            )


def read_mentions(path: Path) -> list[MentionFacts]:
    with path.open(newline="") as handle:
        return [
            MentionFacts(
                mention_id=int(row["mention_id"]),
                name=row["written"],
                record_id=int(row["record_id"]) if row["record_id"] else None,
                id_index=row["id_index"] or None,
                phone_index=row["phone_index"] or None,
                birth_date=date.fromisoformat(row["birth_date"]) if row["birth_date"] else None,
                region_code=row["region"] or None,
                address=row["address"] or None,
            )
            for row in csv.DictReader(handle)
        ]


def govhub_side(source: Path, output: Path) -> None:
    mentions = read_mentions(source)
    cpu_started, started = _cpu_seconds(), time.perf_counter()
    matches = PersonResolver().resolve(mentions)
    elapsed, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
    with output.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["mention_id", "cluster"])
        writer.writerows((m.mention_id, str(m.person)) for m in matches)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{elapsed:.3f} {rss:.1f} {cpu:.3f}")


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _score(source: Path, clusters: Path) -> tuple[float, float, float]:
    with source.open(newline="") as handle:
        truth = {int(r["mention_id"]): r["truth"] for r in csv.DictReader(handle)}
    with clusters.open(newline="") as handle:
        predicted = {int(r["mention_id"]): r["cluster"] for r in csv.DictReader(handle)}
    for mention_id in truth.keys() - predicted.keys():  # a mention left out is on its own
        predicted[mention_id] = f"alone-{mention_id}"
    score = pairwise_score(truth, predicted)
    f1 = 2 * score.precision * score.recall / (score.precision + score.recall)
    return score.precision, score.recall, f1


def _run(command: list[str]) -> tuple[float, float, float]:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{command[1]} failed:\n{done.stderr[-3000:]}")
    elapsed, rss, cpu = done.stdout.split()[-3:]
    return float(elapsed), float(rss), float(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--splink-python", help="the Python of an environment with splink")
    parser.add_argument("--side", choices=["govhub"], help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side == "govhub":
        govhub_side(args.input, args.output)
        return
    here = Path(__file__).resolve()
    rows: list[tuple[int, str, float, float, float, float, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in args.mentions:
            source = Path(tmp) / f"mentions-{count}.csv"
            write_mentions(source, count)
            sides = {"govhub": [sys.executable, str(here), "--side", "govhub"]}
            if args.splink_python:
                sides["splink"] = [
                    args.splink_python,
                    str(here.parent / "splink" / "splink_side.py"),
                ]
            for side, command in sides.items():
                out = Path(tmp) / f"{side}-{count}.csv"
                run = [*command, "--input", str(source), "--output", str(out)]
                elapsed, rss, cpu = _run(run)
                precision, recall, f1 = _score(source, out)
                rows.append((count, side, elapsed, rss, precision, recall, f1, cpu))
                print(
                    f"{count:>9,} {side:<7} {elapsed:7.1f} s (CPU {cpu:7.1f} s) {rss:7.0f} MiB  "
                    f"P {precision:.4f} R {recall:.4f} F1 {f1:.4f}",
                    flush=True,
                )
    by = {(r[0], r[1]): r for r in rows}
    counts = sorted({r[0] for r in rows})
    for side in ("govhub", "splink"):
        have = [c for c in counts if (c, side) in by]
        if len(have) >= 2:
            small, large = by[(have[0], side)], by[(have[-1], side)]
            size = math.log(large[0] / small[0])
            wall = math.log(large[2] / small[2]) / size
            cpu = math.log(large[7] / small[7]) / size
            print(f"{side}: time grows as n^{wall:.2f} (CPU n^{cpu:.2f}) "
                  f"from {have[0]:,} to {have[-1]:,}")  # fmt: skip
    for count in counts:
        if (count, "splink") in by:
            ratio = by[(count, "splink")][2] / by[(count, "govhub")][2]
            cpu_ratio = by[(count, "splink")][7] / by[(count, "govhub")][7]
            print(f"{count:,}: govhub is {ratio:.2f}× Splink's speed "
                  f"({cpu_ratio:.2f}× in CPU time)")  # fmt: skip


if __name__ == "__main__":
    main()
