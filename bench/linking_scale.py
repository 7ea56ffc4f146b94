"""Person resolution at scale: 1,000,000 mentions from scratch, then a 1,000-mention batch.

Synthetic mentions are generated in memory with the sandbox's kinds of noise (homophones,
traditional and look-alike characters, polite "王先生" forms, blank ID numbers, second
phones, several address styles) over a hundred counties; identifiers stand in for their
blind indexes. Only the pure domain algorithm is timed (no database).

    .venv/bin/python bench/linking_scale.py [--mentions N] [--batch N]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.linking import MentionFacts, PersonResolver
from domain.linking.scoring import pairwise_score
from sandbox.noise import name_variant
from sandbox.people import name_pools

_ROADS = ("建设路", "人民路", "解放路", "和平街", "文化路", "黄河大道", "车站路", "新华街")


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_mentions(count: int, seed: int = 1) -> tuple[list[MentionFacts], list[str]]:
    """``count`` mentions of about ``count / 2.5`` people, and each mention's true person."""
    rng = random.Random(seed)
    pools = name_pools(7)
    counties = [f"{41 + i // 50:02d}{(i % 50) + 1:02d}{rng.randint(1, 29):02d}" for i in range(100)]
    mentions: list[MentionFacts] = []
    truth: list[str] = []
    person = 0
    record = 0
    while len(mentions) < count:
        person += 1
        male = rng.random() < 0.5
        name = rng.choice(pools.surnames) + rng.choice(
            pools.male_given if male else pools.female_given
        )
        county = rng.choice(counties)
        village = f"{county}{rng.randint(1, 20):03d}{rng.randint(1, 30):03d}"
        road, number = rng.choice(_ROADS), rng.randint(1, 300)
        birth = date(1950, 1, 1) + timedelta(days=rng.randint(0, 20000))
        phones = [f"P{person}a", f"P{person}b"] if rng.random() < 0.3 else [f"P{person}a"]
        for _ in range(max(1, int(rng.expovariate(1 / 1.5)) + 1)):
            record += 1
            roll = rng.random()
            shown = (name[0] + ("先生" if male else "女士") if roll < 0.03
                     else name_variant(rng, name) if roll < 0.09 else name)  # fmt: skip
            has_id = rng.random() < 0.5
            phone = None if rng.random() < 0.1 else rng.choice(phones)
            style = rng.randint(0, 2)
            address = (f"{road}{number}号" if style == 0 else f"{road}{number}号院"
                       if style == 1 else None)  # fmt: skip
            mentions.append(
                MentionFacts(
                    mention_id=len(mentions) + 1, name=shown, record_id=record,
                    id_index=f"ID{person}" if has_id else None, phone_index=phone,
                    birth_date=birth if has_id else None,
                    region_code=village if rng.random() < 0.6 else county, address=address,
                )
            )  # fmt: skip
            truth.append(f"T{person}")
    return mentions[:count], truth[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args()
    started = time.perf_counter()
    mentions, truth = synthetic_mentions(args.mentions + args.batch)
    # the batch is a random sample: mostly people the population already holds
    order = list(range(len(mentions)))
    random.Random(2).shuffle(order)
    mentions, truth = [mentions[i] for i in order], [truth[i] for i in order]
    population, batch = mentions[: args.mentions], mentions[args.mentions :]
    generated = time.perf_counter() - started
    print(f"generated {len(mentions):,} mentions in {generated:.1f} s "
          f"(peak RSS {_peak_rss_mib():,.0f} MiB)")  # fmt: skip

    resolver = PersonResolver()
    started = time.perf_counter()
    matches = resolver.resolve(population)
    full = time.perf_counter() - started
    persons = len({m.person for m in matches})
    rate = len(population) / full
    print(f"from scratch: {len(population):,} mentions → {persons:,} persons in {full:.1f} s "
          f"({rate:,.0f} mentions/s), peak RSS {_peak_rss_mib():,.0f} MiB")  # fmt: skip
    score = pairwise_score(
        {m.mention_id: t for m, t in zip(population, truth[: len(population)], strict=True)},
        {m.mention_id: m.person for m in matches},
    )
    print(f"  pairwise precision {score.precision:.4f}, recall {score.recall:.4f}")

    started = time.perf_counter()
    incremental = resolver.resolve(batch)
    step = time.perf_counter() - started
    known = {m.person for m in matches}
    joined = sum(1 for m in incremental if m.person in known)
    print(f"incremental: {len(batch):,} new mentions against {len(population):,} in "
          f"{step * 1000:.0f} ms ({joined:,} joined known persons), "
          f"peak RSS {_peak_rss_mib():,.0f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
