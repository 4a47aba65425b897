"""Shown by simulation: with customers clustered in accounts as in the sample (an account effect
shared by its respondents, most accounts answering in every wave), the clustered NPS interval
keeps its coverage and, with no true change anywhere, "significant change" across 13 countries
stays within the stated error rate.

The model: an account's latent loyalty is N(0, 1.1) (the sample's account effect sd 0.45 plus
the halo it carries on the 0-10 scale), a respondent adds N(0, 1.5), likelihood to recommend is
round(7.2 + both), clipped to 0-10; accounts have 1-12 respondents a wave.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csatlib.stats.multiplicity import adjust
from csatlib.stats.nps import nps, nps_wave_change

pytestmark = pytest.mark.slow

ACCOUNT_SD, RESPONDENT_SD, CENTRE = 1.1, 1.5, 7.2


def _ltr(latent: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(CENTRE + latent), 0, 10)


def _true_nps(rng: np.random.Generator) -> float:
    latent = rng.normal(0, ACCOUNT_SD, 2_000_000) + rng.normal(0, RESPONDENT_SD, 2_000_000)
    y = _ltr(latent)
    return 100 * (np.mean(y >= 9) - np.mean(y <= 6))


def _sample(rng: np.random.Generator, accounts: int) -> tuple[np.ndarray, np.ndarray]:
    sizes = rng.integers(1, 13, accounts)
    effect = np.repeat(rng.normal(0, ACCOUNT_SD, accounts), sizes)
    keys = np.repeat(np.arange(accounts), sizes)
    return _ltr(effect + rng.normal(0, RESPONDENT_SD, len(keys))), keys


def test_clustered_nps_interval_keeps_its_coverage() -> None:
    rng = np.random.default_rng(15)
    truth = _true_nps(rng)
    reps = 1_500
    covered = covered_naive = 0
    for _ in range(reps):
        scores, keys = _sample(rng, 40)  # about 260 respondents in 40 accounts
        clustered = nps(scores, clusters=keys)
        naive = nps(scores)
        covered += clustered.ci_low <= truth <= clustered.ci_high
        covered_naive += naive.ci_low <= truth <= naive.ci_high
    # MC standard error of a 95% coverage over 1,500 reps is 0.6 points
    assert covered / reps >= 0.93
    # respondents as independent would under-cover badly: the point of clustering
    assert covered_naive / reps < 0.85


def _panel(rng: np.random.Generator) -> pd.DataFrame:
    """13 countries x 2 waves, no true change: each account keeps its effect across waves."""
    frames = []
    for c in range(13):
        accounts = 30
        effect = rng.normal(0, ACCOUNT_SD, accounts)
        for wave in ("2026-Q1", "2026-Q2"):
            sizes = rng.integers(1, 13, accounts)
            keys = np.repeat(np.arange(accounts), sizes)
            latent = np.repeat(effect, sizes) + rng.normal(0, RESPONDENT_SD, len(keys))
            frames.append(
                pd.DataFrame(
                    {
                        "country": f"C{c:02d}",
                        "wave": wave,
                        "account": [f"C{c:02d}-{k}" for k in keys],
                        "ltr": _ltr(latent),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def test_no_true_change_gives_the_stated_error_rate() -> None:
    rng = np.random.default_rng(151)
    reps = 150
    p_values, any_significant = [], 0
    for _ in range(reps):
        df = _panel(rng)
        changes = nps_wave_change(df, score="ltr", cluster="account", min_n=30)
        p = changes.loc[changes["wave"] == "2026-Q2", "p_value"].to_numpy(dtype=float)
        p_values.extend(p)
        any_significant += bool((adjust(p) < 0.05).any())
    p_values = np.asarray(p_values)
    # each test's false-positive rate is about its 5% level (1,950 tests: MC SE 0.5 points)
    assert 0.02 <= np.mean(p_values < 0.05) <= 0.08
    # across the 13 countries, Benjamini-Hochberg keeps "any significant change" near 5% under
    # the global null (MC SE 1.8 points over 150 reps)
    assert any_significant / reps <= 0.10
