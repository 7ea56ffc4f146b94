"""The Splink side of ``bench/linking_splink.py``: run inside Splink's own environment.

Reads the mentions file the parent wrote, trains a Fellegi-Sunter model on DuckDB with the
same features govhub uses (ID and phone blind indexes, simplified name and its pinyin, birth
date, division code, house key), clusters at ``--threshold`` and writes ``mention_id,cluster``.
Only Splink and DuckDB are imported here; govhub does not depend on either.

    <splink-venv>/bin/python bench/splink/splink_side.py --input M.csv --output C.csv
"""

from __future__ import annotations

import argparse
import csv
import resource
import sys
import time

import duckdb
import splink.comparison_library as cl
import splink.internals.comparison_level as comparison_level
from splink import Linker, SettingsCreator, block_on
from splink.backends.duckdb import DuckDBAPI


def _floor_at_clamp(value: float | str | None, *_: object) -> None:
    """Splink 5.0.0 rejects an m probability of exactly 0, which EM reaches here for levels no
    true pair has (two different ID numbers or birth dates): accept it, meaning 'never'."""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--threshold", type=float, default=0.9)
    args = parser.parse_args()
    comparison_level._validate_m_u_probability = _floor_at_clamp  # see _floor_at_clamp
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE mentions AS SELECT * FROM read_csv(?, header = true, all_varchar = true)",
        [args.input],
    )
    cpu_started, started = _cpu_seconds(), time.perf_counter()
    db_api = DuckDBAPI(connection=con)
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="mention_id",
        blocking_rules_to_generate_predictions=[
            block_on("id_index"),
            block_on("phone_index"),
            block_on("pinyin", "county"),
            block_on("name", "county"),
            block_on("house", "county"),
        ],
        comparisons=[
            cl.ExactMatch("id_index"),
            cl.ExactMatch("phone_index"),
            cl.CustomComparison(
                output_column_name="name",
                comparison_levels=[
                    {
                        "sql_condition": "name_l IS NULL OR name_r IS NULL",
                        "label_for_charts": "null",
                        "is_null_level": True,
                    },
                    {"sql_condition": "name_l = name_r", "label_for_charts": "exact"},
                    {"sql_condition": "pinyin_l = pinyin_r", "label_for_charts": "homophone"},
                    {
                        "sql_condition": "jaro_winkler_similarity(name_l, name_r) >= 0.8",
                        "label_for_charts": "close",
                    },
                    {"sql_condition": "ELSE", "label_for_charts": "else"},
                ],
            ),
            cl.ExactMatch("birth_date"),
            cl.CustomComparison(
                output_column_name="place",
                comparison_levels=[
                    {
                        "sql_condition": "region_l IS NULL OR region_r IS NULL",
                        "label_for_charts": "null",
                        "is_null_level": True,
                    },
                    {"sql_condition": "house_l = house_r", "label_for_charts": "same house"},
                    {
                        "sql_condition": "left(region_l, 12) = left(region_r, 12) "
                        "AND length(region_l) >= 12 AND length(region_r) >= 12",
                        "label_for_charts": "village",
                    },
                    {
                        "sql_condition": "left(region_l, 9) = left(region_r, 9) "
                        "AND length(region_l) >= 9 AND length(region_r) >= 9",
                        "label_for_charts": "township",
                    },
                    {"sql_condition": "county_l = county_r", "label_for_charts": "county"},
                    {"sql_condition": "ELSE", "label_for_charts": "else"},
                ],
            ),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(db_api.register("mentions"), settings, log_level=30)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("id_index"), block_on("phone_index", "name")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2_000_000)
    for rule in (block_on("county", "name"), block_on("phone_index")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=args.threshold)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=args.threshold
    )
    query = f"SELECT mention_id, cluster_id FROM {clusters.physical_name}"  # noqa: S608 (its own table)
    rows = con.execute(query).fetchall()
    elapsed, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
    with open(args.output, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["mention_id", "cluster"])
        writer.writerows(rows)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"splink {elapsed:.1f} s {rss:.0f} MiB", file=sys.stderr)
    print(f"{elapsed:.3f} {rss:.1f} {cpu:.3f}")


def _cpu_seconds() -> float:
    """User and system time of all this process's threads (DuckDB's included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
