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

Splink is handed features govhub's resolver computes inside its own timed run: the simplified
name and its pinyin, the canonical division code and county, the house key (DuckDB cannot
turn 繁体 into simplified characters or a name into pinyin). Their cost, computed the way the
resolver computes them (once per distinct value), is measured in govhub's process after its
run and printed beside Splink's own figure as "+ its features"; the speed ratio is printed
against both.

    python3 -m venv bench/.splink && bench/.splink/bin/pip install splink==5.0.0
    .venv/bin/python bench/linking_splink.py --mentions 100000 1000000 \
        --splink-python bench/.splink/bin/python --rounds 3

On a shared machine one run of either side can be 20% off its usual time: ``--rounds``
alternates the sides and prints the median of each.
"""

from __future__ import annotations

import argparse
import csv
import math
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from domain.linking import MentionFacts, PersonResolver
from domain.linking.names import CHAR_PINYIN, name_key, name_keys
from domain.linking.persons import _each_distinct
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
    features_wall, features_cpu = feature_seconds(mentions)
    print(f"{features_wall:.3f} {features_cpu:.3f} {elapsed:.3f} {rss:.1f} {cpu:.3f}")


def feature_seconds(mentions: list[MentionFacts]) -> tuple[float, float]:
    """Wall and CPU time of the features the Splink side is handed ready-made in its CSV
    (simplified name, pinyin, canonical division code, county, house key), computed as govhub's
    resolver computes its own inside its timed run: once per distinct value, caches emptied
    first. DuckDB cannot turn 繁体 into simplified characters or names into pinyin, so a Splink
    deployment would pay this in Python too."""
    CHAR_PINYIN.clear()
    for cached in (canonical_region, address_parts):
        cached.cache_clear()
    cpu_started, started = _cpu_seconds(), time.perf_counter()
    keys = name_keys([m.name for m in mentions])
    names = [(key.simplified, "|".join(key.pinyin)) for key in keys]
    regions = _each_distinct(canonical_region, [m.region_code for m in mentions])
    counties = [region[:6] if region else "" for region in regions]
    houses = _each_distinct(
        lambda text: address_parts(text).house_key, [m.address for m in mentions]
    )
    elapsed, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
    assert len(names) == len(counties) == len(houses)
    return elapsed, cpu


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


def _run(command: list[str]) -> list[float]:
    """The figures a side prints last: elapsed, RSS and CPU (govhub's preceded by the
    features' wall and CPU time)."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{command[1]} failed:\n{done.stderr[-3000:]}")
    return [float(figure) for figure in done.stdout.splitlines()[-1].split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--splink-python", help="the Python of an environment with splink")
    parser.add_argument(
        "--rounds", type=int, default=1,
        help="runs of each side, alternating; the median time and the highest RSS are printed",
    )  # fmt: skip
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
            features = (0.0, 0.0)
            runs: dict[str, list[list[float]]] = {side: [] for side in sides}
            for round_ in range(args.rounds):  # alternating: a shared machine drifts
                for side, command in sides.items():
                    out = Path(tmp) / f"{side}-{count}.csv"
                    runs[side].append(
                        _run([*command, "--input", str(source), "--output", str(out)])
                    )
                    if args.rounds > 1:
                        *_, elapsed, rss, cpu = runs[side][-1]
                        print(f"{count:>9,} {side:<7} round {round_ + 1}: {elapsed:.1f} s "
                              f"(CPU {cpu:.1f} s)", flush=True)  # fmt: skip
            for side in sides:
                out = Path(tmp) / f"{side}-{count}.csv"
                *measured, elapsed, rss, cpu = (
                    statistics.median(figures) for figures in zip(*runs[side], strict=True)
                )
                rss = max(figures[-2] for figures in runs[side])
                if side == "govhub":
                    features = (measured[0], measured[1])
                precision, recall, f1 = _score(source, out)
                rows.append((count, side, elapsed, rss, precision, recall, f1, cpu))
                print(
                    f"{count:>9,} {side:<7} {elapsed:7.1f} s (CPU {cpu:7.1f} s) {rss:7.0f} MiB  "
                    f"P {precision:.4f} R {recall:.4f} F1 {f1:.4f}",
                    flush=True,
                )
                if side == "splink":
                    total, total_cpu = elapsed + features[0], cpu + features[1]
                    rows.append((count, "splink+f", total, rss, precision, recall, f1, total_cpu))
                    print(
                        f"{count:>9,} {'+ its features':<14} {total:7.1f} s (CPU {total_cpu:7.1f}"
                        f" s): Splink with the features it is handed ({features[0]:.1f} s,"
                        f" CPU {features[1]:.1f} s, in govhub's process)",
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
        for side, what in (("splink", "resolution alone"), ("splink+f", "with its features")):
            if (count, side) in by:
                ratio = by[(count, side)][2] / by[(count, "govhub")][2]
                cpu_ratio = by[(count, side)][7] / by[(count, "govhub")][7]
                print(f"{count:,}: govhub is {ratio:.2f}× Splink's speed, Splink's {what} "
                      f"({cpu_ratio:.2f}× in CPU time)")  # fmt: skip


if __name__ == "__main__":
    main()
