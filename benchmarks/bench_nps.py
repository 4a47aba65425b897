"""Benchmark csatlib.stats.nps.nps_by_group against the naive pandas baseline, in one run.

Data: 10 million synthetic responses over 13 countries x 4 waves (categorical keys, nullable
Int64 likelihood to recommend with 2 % missing, as in ``responses.parquet``).
Measured: ``nps_by_group(df, ["country", "wave"])``, best of 3.
Baseline (named "groupby-apply"): ``df.groupby([...])[score].apply(lambda s: nps(s))``, the
straightforward per-group call, timed (best of 3) on a 1 million-row subset and scaled x10 to
10 million rows (the output says so). Prints one line per measurement and the ratio.

Run with ``make bench`` or ``python benchmarks/bench_nps.py``; takes well under a minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from csatlib.stats.nps import nps, nps_by_group

N_ROWS = 10_000_000
N_SUBSET = 1_000_000
COUNTRIES = ["AU", "BR", "CN", "DE", "ES", "FR", "GB", "IN", "IT", "JP", "NA", "NL", "US"]
WAVES = ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]
SCORE = "likelihood_to_recommend"


def synthetic(n: int, seed: int = 20261125) -> pd.DataFrame:
    """``n`` responses with country-specific score distributions and 2 % missing scores."""
    rng = np.random.default_rng(seed)
    country = rng.integers(0, len(COUNTRIES), n)
    # country effect shifts the 0-10 distribution so the NPS differs across countries
    latent = rng.normal(7.0 + 0.15 * (country - 6), 2.2)
    scores = np.clip(np.rint(latent), 0, 10).astype(np.int64)
    ltr = pd.array(scores, dtype="Int64")
    ltr[rng.random(n) < 0.02] = pd.NA
    return pd.DataFrame(
        {
            "country": pd.Categorical.from_codes(country, categories=COUNTRIES),
            "wave": pd.Categorical.from_codes(
                rng.integers(0, len(WAVES), n), categories=WAVES, ordered=True
            ),
            SCORE: ltr,
        }
    )


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def baseline(df: pd.DataFrame) -> pd.Series:
    grouped = df.groupby(["country", "wave"], observed=True)[SCORE]
    return grouped.apply(lambda scores: nps(scores).score)


def main() -> None:
    df = synthetic(N_ROWS)
    subset = df.iloc[:N_SUBSET]
    ours = nps_by_group(df, ["country", "wave"])
    check = nps_by_group(subset, ["country", "wave"])["score"].to_numpy()
    if not np.allclose(check, baseline(subset).to_numpy(), rtol=0, atol=1e-9):
        raise SystemExit("nps_by_group and the groupby-apply baseline disagree")
    t_ours = best_of(lambda: nps_by_group(df, ["country", "wave"]))
    t_base = best_of(lambda: baseline(subset)) * (N_ROWS / N_SUBSET)
    print(f"rows: {N_ROWS:,}; groups (country x wave): {len(ours)}")
    print(f"nps_by_group, 10M rows, best of 3: {t_ours:.3f} s")
    print(
        f"groupby-apply baseline (nps() per group), timed on a 1M-row subset and scaled x10 "
        f"to 10M rows, best of 3: {t_base:.3f} s"
    )
    print(f"speed-up vs groupby-apply baseline: {t_base / t_ours:.1f}x")


if __name__ == "__main__":
    main()
