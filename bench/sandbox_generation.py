"""Benchmark: how long the sandbox takes to generate a world, and its peak memory.

Each scale runs in a fresh subprocess so one run's memory does not hide the next's.
Usage: ``python bench/sandbox_generation.py [SCALE ...]`` (default 10000 100000).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

DEFAULT_SCALES = (10_000, 100_000)


def measure(scale: int, seed: int = 7) -> dict[str, float]:
    """Generate one world in this process; seconds to generate and to fingerprint it."""
    from sandbox.world import generate_world, world_fingerprint

    started = time.perf_counter()
    world = generate_world(seed, scale)
    generated = time.perf_counter()
    world_fingerprint(world)
    fingerprinted = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "scale": scale,
        "records": sum(len(r) for r in world.records.values()),
        "people": len(world.people),
        "generate_s": round(generated - started, 2),
        "fingerprint_s": round(fingerprinted - generated, 2),
        "peak_rss_mib": round(peak_kib / 1024, 1),
    }


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        print(json.dumps(measure(int(argv[1]))))
        return 0
    scales = [int(a) for a in argv] or list(DEFAULT_SCALES)
    print(f"{'scale':>8} {'records':>8} {'people':>8} {'generate s':>11} {'fingerprint s':>14} "
          f"{'peak RSS MiB':>13}")
    for scale in scales:
        out = subprocess.run([sys.executable, __file__, "--child", str(scale)],
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out)
        print(f"{r['scale']:>8} {r['records']:>8} {r['people']:>8} {r['generate_s']:>11} "
              f"{r['fingerprint_s']:>14} {r['peak_rss_mib']:>13}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    raise SystemExit(main(sys.argv[1:]))
