"""Measure how long each real data service takes to start, as the test fixtures start them.

Run: .venv/bin/python bench/testenv/start_times.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from req1_testenv.postgres import PostgresServer
from req1_testenv.redis import RedisServer
from req1_testenv.scratch import remove_tree, scratch_dir
from req1_testenv.seaweedfs import SeaweedS3


def timed(start: Callable[[], object]) -> float:
    began = time.perf_counter()
    start()
    return time.perf_counter() - began


def one_run(root: Path) -> dict[str, float]:
    pg = PostgresServer(root / "pg")
    results = {"postgres (initdb + start)": timed(pg.start)}
    replica: list[PostgresServer] = []
    results["postgres replica (basebackup + start)"] = timed(lambda: replica.append(pg.start_replica(root / "r")))
    redis = RedisServer(root / "redis")
    results["redis"] = timed(redis.start)
    s3 = SeaweedS3(root / "s3")
    results["seaweedfs (weed mini, bucket ready)"] = timed(s3.start)
    for service in (s3, redis, replica[0], pg):
        service.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    samples: dict[str, list[float]] = {}
    for _ in range(args.runs):
        root = scratch_dir("bench")
        try:
            for name, seconds in one_run(root).items():
                samples.setdefault(name, []).append(seconds)
        finally:
            remove_tree(root)
    print("| service | median s | max s |\n|---|---|---|")
    for name, values in samples.items():
        print(f"| {name} | {statistics.median(values):.2f} | {max(values):.2f} |")


if __name__ == "__main__":
    main()
