"""Benchmark: NPS with account-clustered intervals by country x wave on 10 million responses,
read from the processed dataset (csatlib.ingest.dataset), against the issue's target of 2 s.

Data: 10 million synthetic responses (13 countries x 4 waves, 20,000 accounts nested in
countries, an account effect, 2 % missing scores, and 6 more text columns as a real export has),
written once as the partitioned dataset (not timed). Measured, best of 3, each from a cold
``read_dataset``:

* ``dataset``: ``read_dataset(columns=[country, wave, account, ltr])`` then
  ``nps_by_group(by=[country, wave], cluster=account)``;
* named baseline ``whole table``: ``pandas.read_parquet`` of every column of the dataset, then
  the same estimator (what a report does when it loads the whole table first).

Prints each time, the ratio to the baseline and to the 2 s target. ``make bench`` runs it.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from csatlib.ingest.dataset import DATASET_DIR, read_dataset, write_dataset
from csatlib.stats.nps import nps_by_group

N_ROWS = 10_000_000
N_ACCOUNTS = 20_000
TARGET_SECONDS = 2.0
COUNTRIES = ["AU", "BR", "CA", "DE", "ES", "FR", "GB", "IN", "IT", "JP", "NA", "NL", "US"]
WAVES = ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]


def synthetic(n: int, seed: int = 20261202) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    account = rng.integers(0, N_ACCOUNTS, n)
    country = account % len(COUNTRIES)
    effect = rng.normal(0.0, 1.0, N_ACCOUNTS)[account]
    scores = np.clip(np.rint(rng.normal(7.0 + effect, 1.8)), 0, 10).astype(np.int64)
    ltr = pd.array(scores, dtype="Int64")
    ltr[rng.random(n) < 0.02] = pd.NA
    frame = pd.DataFrame(
        {
            "country": pd.Categorical.from_codes(country, categories=COUNTRIES),
            "wave": pd.Categorical.from_codes(
                rng.integers(0, len(WAVES), n), categories=WAVES, ordered=True
            ),
            "account": pd.Categorical.from_codes(
                account, categories=[f"A{i:05d}" for i in range(N_ACCOUNTS)]
            ),
            "likelihood_to_recommend": ltr,
        }
    )
    for k in range(6):  # the rest of a response: text a report never needs for this figure
        frame[f"text_{k}"] = pd.Categorical.from_codes(
            rng.integers(0, 50, n), categories=[f"answer {j}" for j in range(50)]
        )
    return frame


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        write_dataset({"responses": synthetic(N_ROWS)}, folder)
        print(f"wrote {N_ROWS:,} responses as the dataset in {time.perf_counter() - start:.1f} s")
        columns = ["country", "wave", "account", "likelihood_to_recommend"]

        def from_dataset() -> pd.DataFrame:
            df = read_dataset("responses", folder, columns=columns)
            return nps_by_group(df, ["country", "wave"], cluster="account")

        def whole_table() -> pd.DataFrame:
            df = pd.read_parquet(folder / DATASET_DIR / "responses")
            return nps_by_group(df, ["country", "wave"], cluster="account")

        table = from_dataset()
        assert len(table) == len(COUNTRIES) * len(WAVES) and table["se"].notna().all()
        fast = best_of(from_dataset)
        slow = best_of(whole_table)
    print(f"dataset (4 columns) + nps_by_group(cluster=account): {fast:.2f} s")
    print(f"baseline 'whole table' (every column) + the same:   {slow:.2f} s")
    print(f"ratio baseline / dataset: {slow / fast:.1f}x")
    print(
        f"target < {TARGET_SECONDS:.0f} s: {fast:.2f} s ({fast / TARGET_SECONDS:.2f} of it) "
        f"-> {'met' if fast < TARGET_SECONDS else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
