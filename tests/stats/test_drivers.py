"""Tests of csatlib.stats.drivers: numbers published by relaimpo / R, brute-force refits, closed
forms."""

from __future__ import annotations

import itertools
import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from csatlib.config import RAW_DIR
from csatlib.errors import DataError
from csatlib.stats import drivers
from csatlib.stats.design import cluster_codes

# R datasets::swiss (public domain; Mosteller & Tukey 1977), 47 French-speaking provinces, 1888.
# Copied from the Rdatasets CSV (vincentarelbundock/Rdatasets csv/datasets/swiss.csv).
SWISS = [  # Fertility, Agriculture, Examination, Education, Catholic, Infant.Mortality
    (80.2, 17.0, 15.0, 12.0, 9.96, 22.2),  # Courtelary
    (83.1, 45.1, 6.0, 9.0, 84.84, 22.2),  # Delemont
    (92.5, 39.7, 5.0, 5.0, 93.4, 20.2),  # Franches-Mnt
    (85.8, 36.5, 12.0, 7.0, 33.77, 20.3),  # Moutier
    (76.9, 43.5, 17.0, 15.0, 5.16, 20.6),  # Neuveville
    (76.1, 35.3, 9.0, 7.0, 90.57, 26.6),  # Porrentruy
    (83.8, 70.2, 16.0, 7.0, 92.85, 23.6),  # Broye
    (92.4, 67.8, 14.0, 8.0, 97.16, 24.9),  # Glane
    (82.4, 53.3, 12.0, 7.0, 97.67, 21.0),  # Gruyere
    (82.9, 45.2, 16.0, 13.0, 91.38, 24.4),  # Sarine
    (87.1, 64.5, 14.0, 6.0, 98.61, 24.5),  # Veveyse
    (64.1, 62.0, 21.0, 12.0, 8.52, 16.5),  # Aigle
    (66.9, 67.5, 14.0, 7.0, 2.27, 19.1),  # Aubonne
    (68.9, 60.7, 19.0, 12.0, 4.43, 22.7),  # Avenches
    (61.7, 69.3, 22.0, 5.0, 2.82, 18.7),  # Cossonay
    (68.3, 72.6, 18.0, 2.0, 24.2, 21.2),  # Echallens
    (71.7, 34.0, 17.0, 8.0, 3.3, 20.0),  # Grandson
    (55.7, 19.4, 26.0, 28.0, 12.11, 20.2),  # Lausanne
    (54.3, 15.2, 31.0, 20.0, 2.15, 10.8),  # La Vallee
    (65.1, 73.0, 19.0, 9.0, 2.84, 20.0),  # Lavaux
    (65.5, 59.8, 22.0, 10.0, 5.23, 18.0),  # Morges
    (65.0, 55.1, 14.0, 3.0, 4.52, 22.4),  # Moudon
    (56.6, 50.9, 22.0, 12.0, 15.14, 16.7),  # Nyone
    (57.4, 54.1, 20.0, 6.0, 4.2, 15.3),  # Orbe
    (72.5, 71.2, 12.0, 1.0, 2.4, 21.0),  # Oron
    (74.2, 58.1, 14.0, 8.0, 5.23, 23.8),  # Payerne
    (72.0, 63.5, 6.0, 3.0, 2.56, 18.0),  # Paysd'enhaut
    (60.5, 60.8, 16.0, 10.0, 7.72, 16.3),  # Rolle
    (58.3, 26.8, 25.0, 19.0, 18.46, 20.9),  # Vevey
    (65.4, 49.5, 15.0, 8.0, 6.1, 22.5),  # Yverdon
    (75.5, 85.9, 3.0, 2.0, 99.71, 15.1),  # Conthey
    (69.3, 84.9, 7.0, 6.0, 99.68, 19.8),  # Entremont
    (77.3, 89.7, 5.0, 2.0, 100.0, 18.3),  # Herens
    (70.5, 78.2, 12.0, 6.0, 98.96, 19.4),  # Martigwy
    (79.4, 64.9, 7.0, 3.0, 98.22, 20.2),  # Monthey
    (65.0, 75.9, 9.0, 9.0, 99.06, 17.8),  # St Maurice
    (92.2, 84.6, 3.0, 3.0, 99.46, 16.3),  # Sierre
    (79.3, 63.1, 13.0, 13.0, 96.83, 18.1),  # Sion
    (70.4, 38.4, 26.0, 12.0, 5.62, 20.3),  # Boudry
    (65.7, 7.7, 29.0, 11.0, 13.79, 20.5),  # La Chauxdfnd
    (72.7, 16.7, 22.0, 13.0, 11.22, 18.9),  # Le Locle
    (64.4, 17.6, 35.0, 32.0, 16.92, 23.0),  # Neuchatel
    (77.6, 37.6, 15.0, 7.0, 4.97, 20.0),  # Val de Ruz
    (67.6, 18.7, 25.0, 7.0, 8.65, 19.5),  # ValdeTravers
    (35.0, 1.2, 37.0, 53.0, 42.34, 18.0),  # V. De Geneve
    (44.7, 46.6, 16.0, 29.0, 50.43, 18.2),  # Rive Droite
    (42.8, 27.7, 22.0, 29.0, 58.33, 19.3),  # Rive Gauche
]


SWISS_X = ["Agriculture", "Examination", "Education", "Catholic", "Infant.Mortality"]
# R datasets::mtcars (Motor Trend 1974), the four columns the relaimpo example below uses.
MTCARS = [  # mpg, am, vs, cyl
    (21.0, 1, 0, 6),  # Mazda RX4
    (21.0, 1, 0, 6),  # Mazda RX4 Wag
    (22.8, 1, 1, 4),  # Datsun 710
    (21.4, 0, 1, 6),  # Hornet 4 Drive
    (18.7, 0, 0, 8),  # Hornet Sportabout
    (18.1, 0, 1, 6),  # Valiant
    (14.3, 0, 0, 8),  # Duster 360
    (24.4, 0, 1, 4),  # Merc 240D
    (22.8, 0, 1, 4),  # Merc 230
    (19.2, 0, 1, 6),  # Merc 280
    (17.8, 0, 1, 6),  # Merc 280C
    (16.4, 0, 0, 8),  # Merc 450SE
    (17.3, 0, 0, 8),  # Merc 450SL
    (15.2, 0, 0, 8),  # Merc 450SLC
    (10.4, 0, 0, 8),  # Cadillac Fleetwood
    (10.4, 0, 0, 8),  # Lincoln Continental
    (14.7, 0, 0, 8),  # Chrysler Imperial
    (32.4, 1, 1, 4),  # Fiat 128
    (30.4, 1, 1, 4),  # Honda Civic
    (33.9, 1, 1, 4),  # Toyota Corolla
    (21.5, 0, 1, 4),  # Toyota Corona
    (15.5, 0, 0, 8),  # Dodge Challenger
    (15.2, 0, 0, 8),  # AMC Javelin
    (13.3, 0, 0, 8),  # Camaro Z28
    (19.2, 0, 0, 8),  # Pontiac Firebird
    (27.3, 1, 1, 4),  # Fiat X1-9
    (26.0, 1, 0, 4),  # Porsche 914-2
    (30.4, 1, 1, 4),  # Lotus Europa
    (15.8, 1, 0, 8),  # Ford Pantera L
    (19.7, 1, 0, 6),  # Ferrari Dino
    (15.0, 1, 0, 8),  # Maserati Bora
    (21.4, 1, 1, 4),  # Volvo 142E
]


@pytest.fixture(scope="module")
def swiss() -> pd.DataFrame:
    return pd.DataFrame(SWISS, columns=["Fertility", *SWISS_X])


@pytest.fixture(scope="module")
def mtcars() -> pd.DataFrame:
    return pd.DataFrame(MTCARS, columns=["mpg", "am", "vs", "cyl"])


def _ols_r2(frame: pd.DataFrame, outcome: str, cols: list[str], weights=None) -> float:
    """Independent reference: refit on the raw rows with statsmodels."""
    if not cols:
        return 0.0
    design = sm.add_constant(frame[cols].to_numpy(dtype=float), has_constant="add")
    y = frame[outcome].to_numpy(dtype=float)
    model = sm.OLS(y, design) if weights is None else sm.WLS(y, design, weights=weights)
    return float(model.fit().rsquared)


def _lmg_by_orderings(frame: pd.DataFrame, outcome: str, cols: list[str], weights=None) -> dict:
    """LMG the slow way: average sequential R^2 gain over all p! orderings, refitting raw rows."""
    cache: dict[frozenset, float] = {}

    def r2(subset: frozenset) -> float:
        if subset not in cache:
            cache[subset] = _ols_r2(frame, outcome, [c for c in cols if c in subset], weights)
        return cache[subset]

    total = dict.fromkeys(cols, 0.0)
    orders = list(itertools.permutations(cols))
    for order in orders:
        seen: frozenset = frozenset()
        for c in order:
            total[c] += r2(seen | {c}) - r2(seen)
            seen = seen | {c}
    return {c: v / len(orders) for c, v in total.items()}


def _random_drivers(n: int, p: int, seed: int) -> tuple[pd.DataFrame, list[str]]:
    rng = np.random.default_rng(seed)
    mix = np.eye(p) + 0.6 * rng.normal(size=(p, p)) / np.sqrt(p)
    x = rng.normal(size=(n, p)) @ mix
    y = x @ rng.uniform(0.1, 1.0, p) + rng.normal(size=n) * 2.0
    cols = [f"x{i}" for i in range(p)]
    frame = pd.DataFrame(x, columns=cols)
    frame["y"] = y
    return frame, cols


# ---------------------------------------------------------------------------------------------
# Reference numbers
# ---------------------------------------------------------------------------------------------


def test_lmg_matches_relaimpo_published_output_on_mtcars(mtcars):
    # relaimpo::calc.relimp(mpg ~ am + vs + cyl, data = mtcars, type = "lmg"), output printed in
    # the README of the domir package (J. Luchman, CRAN/GitHub jluchman/domir): "Proportion of
    # variance explained by model: 76.2%"; lmg am 0.1774892, vs 0.2027032, cyl 0.3817849; domir
    # prints the overall value 0.7619773.
    result = drivers.relative_importance(
        mtcars, "mpg", ["am", "vs", "cyl"], "lmg", rows_per_driver=1
    )
    published = {"am": 0.1774892, "vs": 0.2027032, "cyl": 0.3817849}
    for driver, value in published.items():
        assert result.loc[driver, "importance"] == pytest.approx(value, abs=5e-8)
    assert result.attrs["r2"] == pytest.approx(0.7619773, abs=5e-8)
    assert list(result["rank"]) == [3, 2, 1]


def test_lmg_on_swiss_equals_brute_force_over_all_orderings(swiss):
    # relaimpo's own digits for swiss could not be found in a published source, so the reference
    # is computed independently: 5! = 120 orderings of statsmodels refits on the raw rows.
    # R's ?swiss example, summary(lm(Fertility ~ ., swiss)), prints Multiple R-squared 0.7067.
    result = drivers.relative_importance(swiss, "Fertility", SWISS_X, "lmg", rows_per_driver=5)
    reference = _lmg_by_orderings(swiss, "Fertility", SWISS_X)
    for driver in SWISS_X:
        assert result.loc[driver, "importance"] == pytest.approx(reference[driver], abs=1e-10)
    assert result.attrs["r2"] == pytest.approx(0.7067, abs=5e-5)
    assert result["importance"].sum() == pytest.approx(result.attrs["r2"], abs=1e-12)
    assert result["share"].sum() == pytest.approx(1.0)
    # Education > Examination > Infant.Mortality > Catholic > Agriculture
    assert list(result["rank"]) == [5, 2, 1, 4, 3]
    shapley = drivers.relative_importance(swiss, "Fertility", SWISS_X, rows_per_driver=5)
    assert np.allclose(shapley["importance"], result["importance"], atol=0, rtol=0)


def test_ols_drivers_match_r_summary_of_swiss_regression(swiss):
    # R ?swiss example summary(lm(Fertility ~ ., data = swiss)), Estimate column:
    # (Intercept) 66.91518, Agriculture -0.17211, Examination -0.25801, Education -0.87094,
    # Catholic 0.10412, Infant.Mortality 1.07705; Multiple R-squared 0.7067, adjusted 0.671.
    table = drivers.ols_drivers(swiss, "Fertility", SWISS_X, rows_per_driver=5)
    published = [-0.17211, -0.25801, -0.87094, 0.10412, 1.07705]
    assert table["beta"].to_numpy() == pytest.approx(published, abs=5e-6)
    assert table.attrs["intercept"] == pytest.approx(66.91518, abs=5e-6)
    assert table.attrs["adj_r2"] == pytest.approx(0.671, abs=5e-4)
    sd = swiss.std(ddof=1)
    assert table["std_beta"].to_numpy() == pytest.approx(
        (table["beta"] * sd[SWISS_X] / sd["Fertility"]).to_numpy(), rel=1e-12
    )


def test_subset_r2_equals_refit_of_every_subset(swiss):
    corr = swiss[[*SWISS_X, "Fertility"]].corr().to_numpy()
    lattice = drivers.subset_r2(corr)
    assert lattice.shape == (32,)
    for mask in range(32):
        cols = [c for j, c in enumerate(SWISS_X) if mask >> j & 1]
        assert lattice[mask] == pytest.approx(_ols_r2(swiss, "Fertility", cols), abs=1e-12)


def test_subset_r2_is_accurate_for_many_drivers():
    frame, cols = _random_drivers(3000, 14, seed=3)
    corr = frame[[*cols, "y"]].corr().to_numpy()
    lattice = drivers.subset_r2(corr)
    rng = np.random.default_rng(0)
    for mask in rng.integers(1, 2**14, size=25):
        idx = [j for j in range(14) if mask >> j & 1]
        r = corr[idx, -1]
        direct = r @ np.linalg.solve(corr[np.ix_(idx, idx)], r)
        assert lattice[mask] == pytest.approx(direct, abs=1e-12)


def test_weighted_shapley_equals_wls_brute_force():
    frame, cols = _random_drivers(400, 5, seed=11)
    w = np.random.default_rng(5).uniform(0.2, 3.0, len(frame))
    result = drivers.relative_importance(frame, "y", cols, weights=w)
    reference = _lmg_by_orderings(frame, "y", cols, weights=w)
    assert result["importance"].to_numpy() == pytest.approx([reference[c] for c in cols], abs=1e-10)
    assert result.attrs["r2"] == pytest.approx(_ols_r2(frame, "y", cols, weights=w), abs=1e-12)
    assert result.attrs["n_effective"] < len(frame)


def test_relative_weights_equal_johnsons_construction_on_the_raw_data(swiss):
    # Johnson (2000): Z = P Q' from the SVD X = P D Q' of the standardized drivers; regress y on
    # Z (beta) and X on Z (Lambda); eps_j = sum_k Lambda_jk^2 beta_k^2. Computed here from the
    # raw rows with an SVD, the module uses an eigendecomposition of the correlation matrix.
    def unit(a: np.ndarray) -> np.ndarray:
        a = a - a.mean(axis=0)
        return a / np.sqrt((a**2).sum(axis=0))

    x = unit(swiss[SWISS_X].to_numpy())
    y = unit(swiss[["Fertility"]].to_numpy())[:, 0]
    p_mat, d, q_t = np.linalg.svd(x, full_matrices=False)
    z = p_mat @ q_t
    beta = z.T @ y
    lam = z.T @ x
    eps = (lam**2).T @ beta**2
    result = drivers.relative_importance(
        swiss, "Fertility", SWISS_X, "relative_weights", rows_per_driver=5
    )
    assert result["importance"].to_numpy() == pytest.approx(eps, abs=1e-12)
    assert result["importance"].sum() == pytest.approx(result.attrs["r2"], abs=1e-12)


def test_relative_weights_of_uncorrelated_drivers_are_squared_correlations():
    # With R_xx = I every R^2 decomposition reduces to r_j^2.
    rng = np.random.default_rng(2)
    q, _ = np.linalg.qr(rng.normal(size=(200, 3)))
    x = (q - q.mean(axis=0)) * 10
    x, _ = np.linalg.qr(x - x.mean(axis=0))
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    frame["y"] = x @ [3.0, 2.0, 1.0] + rng.normal(size=200) * 0.05
    cols = ["a", "b", "c"]
    first = drivers.relative_importance(frame, "y", cols, "first")["importance"]
    for method in ("relative_weights", "shapley", "pratt", "last"):
        imp = drivers.relative_importance(frame, "y", cols, method)["importance"]
        assert imp.to_numpy() == pytest.approx(first.to_numpy(), abs=1e-10), method


def test_pratt_first_last_and_beta_against_refits(swiss):
    kwargs = {"rows_per_driver": 5}
    full = _ols_r2(swiss, "Fertility", SWISS_X)
    z = (swiss - swiss.mean()) / swiss.std()
    std_beta = sm.OLS(z["Fertility"], z[SWISS_X]).fit().params
    r = swiss.corr()["Fertility"][SWISS_X]
    last = drivers.relative_importance(swiss, "Fertility", SWISS_X, "last", **kwargs)
    first = drivers.relative_importance(swiss, "Fertility", SWISS_X, "first", **kwargs)
    pratt = drivers.relative_importance(swiss, "Fertility", SWISS_X, "pratt", **kwargs)
    beta = drivers.relative_importance(swiss, "Fertility", SWISS_X, "beta", **kwargs)
    for c in SWISS_X:
        without = [d for d in SWISS_X if d != c]
        assert last.loc[c, "importance"] == pytest.approx(
            full - _ols_r2(swiss, "Fertility", without), abs=1e-12
        )
        assert first.loc[c, "importance"] == pytest.approx(
            _ols_r2(swiss, "Fertility", [c]), abs=1e-12
        )
        assert pratt.loc[c, "importance"] == pytest.approx(std_beta[c] * r[c], abs=1e-12)
        assert beta.loc[c, "importance"] == pytest.approx(std_beta[c], abs=1e-12)
    assert pratt["importance"].sum() == pytest.approx(full, abs=1e-12)
    # Agriculture's Pratt value is negative (suppression): flagged, not hidden.
    assert pratt.loc["Agriculture", "importance"] < 0
    assert any("Agriculture" in note for note in pratt.attrs["notes"])


def test_correlations_against_scipy_and_weights_as_repeated_rows(swiss):
    pearson = drivers.relative_importance(swiss, "Fertility", SWISS_X, "pearson")
    spearman = drivers.relative_importance(swiss, "Fertility", SWISS_X, "spearman")
    for c in SWISS_X:
        assert pearson.loc[c, "importance"] == pytest.approx(
            stats.pearsonr(swiss[c], swiss["Fertility"]).statistic, abs=1e-12
        )
        assert spearman.loc[c, "importance"] == pytest.approx(
            stats.spearmanr(swiss[c], swiss["Fertility"]).statistic, abs=1e-12
        )
    # Integer weights must act like repeated respondents (weighted mid-ranks for Spearman).
    reps = np.arange(len(swiss)) % 3 + 1
    repeated = swiss.loc[swiss.index.repeat(reps)].reset_index(drop=True)
    for method in ("pearson", "spearman", "shapley"):
        weighted = drivers.relative_importance(
            swiss, "Fertility", SWISS_X, method, weights=reps, rows_per_driver=5
        )
        expanded = drivers.relative_importance(repeated, "Fertility", SWISS_X, method)
        assert weighted["importance"].to_numpy() == pytest.approx(
            expanded["importance"].to_numpy(), abs=1e-12
        ), method


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.integers(2, 7))
def test_r2_decompositions_add_up_and_lmg_is_never_negative(seed, p):
    frame, cols = _random_drivers(150, p, seed)
    r2 = _ols_r2(frame, "y", cols)
    for method in ("shapley", "relative_weights", "pratt"):
        result = drivers.relative_importance(frame, "y", cols, method, rows_per_driver=1)
        assert result["importance"].sum() == pytest.approx(r2, abs=1e-10)
    shapley = drivers.relative_importance(frame, "y", cols, rows_per_driver=1)["importance"]
    weights = drivers.relative_importance(frame, "y", cols, "relative_weights", rows_per_driver=1)[
        "importance"
    ]
    assert (shapley >= -1e-12).all()
    assert (weights >= -1e-12).all()


# ---------------------------------------------------------------------------------------------
# Bad data
# ---------------------------------------------------------------------------------------------


def test_listwise_default_equals_analysis_of_complete_rows(swiss):
    holes = swiss.copy().astype("Float64")
    holes.loc[[0, 5, 9], "Education"] = pd.NA
    holes.loc[[12], "Fertility"] = pd.NA
    holes.loc[[20, 21], "Catholic"] = pd.NA
    result = drivers.relative_importance(holes, "Fertility", SWISS_X, rows_per_driver=5)
    complete = drivers.relative_importance(
        swiss.drop(index=[0, 5, 9, 12, 20, 21]), "Fertility", SWISS_X, rows_per_driver=5
    )
    assert result.attrs["n"] == 41
    assert result["importance"].to_numpy() == pytest.approx(
        complete["importance"].to_numpy(), abs=1e-12
    )
    assert any("listwise" in note for note in result.attrs["notes"])


def test_pairwise_uses_pairwise_complete_correlations(swiss):
    holes = swiss.copy()
    rng = np.random.default_rng(4)
    for c in SWISS_X:
        holes.loc[rng.choice(len(holes), 4, replace=False), c] = np.nan
    # pandas' DataFrame.corr() is pairwise-complete Pearson: an independent reference.
    corr = holes[[*SWISS_X, "Fertility"]].corr().to_numpy()
    expected = drivers._shapley_from_lattice(drivers.subset_r2(corr), len(SWISS_X))
    result = drivers.relative_importance(
        holes, "Fertility", SWISS_X, missing="pairwise", rows_per_driver=2
    )
    assert result["importance"].to_numpy() == pytest.approx(expected, abs=1e-12)
    pearson = drivers.relative_importance(
        holes, "Fertility", SWISS_X, "pearson", missing="pairwise"
    )
    assert pearson["importance"].to_numpy() == pytest.approx(corr[:-1, -1], abs=1e-12)
    counts = holes[[*SWISS_X, "Fertility"]].notna().astype(int)
    assert result.attrs["n"] == int((counts.T @ counts).to_numpy().min())


def test_pairwise_matrix_that_is_not_positive_definite_is_suppressed_with_the_reason():
    # corr(a, b) = +1, corr(b, c) = +1, corr(a, c) = -1 on disjoint rows: impossible jointly.
    rng = np.random.default_rng(8)
    t = rng.normal(size=(3, 40))
    nan = np.full(40, np.nan)
    a = np.concatenate([t[0], nan, t[2]])
    b = np.concatenate([t[0], t[1], nan])
    c = np.concatenate([nan, t[1], -t[2]])
    frame = pd.DataFrame({"a": a, "b": b, "c": c, "y": rng.normal(size=120)})
    result = drivers.relative_importance(
        frame, "y", ["a", "b", "c"], missing="pairwise", min_n=10, rows_per_driver=1
    )
    assert result.attrs["suppressed"] is True
    assert "not positive definite" in result.attrs["reason"]
    assert result["importance"].isna().all()


def test_constant_and_collinear_drivers_are_dropped_with_a_reason(swiss):
    frame = swiss.copy()
    frame["flat"] = 7
    frame["sum_of_two"] = frame["Agriculture"] + 2 * frame["Education"]
    cols = [*SWISS_X, "flat", "sum_of_two"]
    result = drivers.relative_importance(frame, "Fertility", cols, rows_per_driver=5)
    assert list(result.index) == SWISS_X
    assert "constant" in result.attrs["dropped"]["flat"]
    reason = result.attrs["dropped"]["sum_of_two"]
    assert "collinear" in reason and "Agriculture" in reason and "Education" in reason
    clean = drivers.relative_importance(swiss, "Fertility", SWISS_X, rows_per_driver=5)
    assert result["importance"].to_numpy() == pytest.approx(clean["importance"].to_numpy())
    assert np.isfinite(result["importance"]).all()


def test_too_few_rows_gives_a_suppressed_result_not_an_exception(swiss):
    # 47 rows, 5 drivers: max(min_n=30, 10 x 5) = 50 rows needed.
    result = drivers.relative_importance(swiss, "Fertility", SWISS_X)
    assert result.attrs["suppressed"] is True
    assert "50" in result.attrs["reason"]
    assert result["importance"].isna().all() and result["rank"].isna().all()
    assert list(result.index) == SWISS_X
    small = drivers.relative_importance(swiss.head(12), "Fertility", SWISS_X, "pearson")
    assert small.attrs["suppressed"] and "min_n" in small.attrs["reason"]
    constant = swiss.assign(Fertility=70.0)
    flat = drivers.relative_importance(constant, "Fertility", SWISS_X, rows_per_driver=5)
    assert flat.attrs["suppressed"] and "constant" in flat.attrs["reason"]


def test_input_errors_say_what_and_where(swiss):
    with pytest.raises(DataError, match="'Religion'"):
        drivers.relative_importance(swiss, "Fertility", ["Religion"])
    bad = swiss.astype(object)
    bad.loc[3, "Education"] = "n/a"
    with pytest.raises(DataError, match=r"'Education'.*'n/a'.*row 3"):
        drivers.relative_importance(bad, "Fertility", SWISS_X)
    with pytest.raises(DataError, match="'weights' parameter of relative_importance .* >= 0"):
        drivers.relative_importance(swiss, "Fertility", SWISS_X, weights=-np.ones(47))
    with pytest.raises(DataError, match="method"):
        drivers.relative_importance(swiss, "Fertility", SWISS_X, "dominance")
    with pytest.raises(DataError, match="also listed as a driver"):
        drivers.relative_importance(swiss, "Fertility", ["Fertility", "Education"])
    with pytest.raises(DataError, match="24"):
        frame, cols = _random_drivers(300, 25, seed=1)
        drivers.relative_importance(frame, "y", cols, rows_per_driver=1)


# ---------------------------------------------------------------------------------------------
# Regressions
# ---------------------------------------------------------------------------------------------


def _hc3(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """HC3 standard errors by the textbook sandwich (MacKinnon & White 1985), weighted."""
    design = np.column_stack([np.ones(len(x)), x])
    xw = design * w[:, None]
    bread = np.linalg.inv(design.T @ xw)
    beta = bread @ xw.T @ y
    resid = y - design @ beta
    h = np.einsum("ij,jk,ik->i", design, bread, xw)
    meat = (design * (w * resid / (1 - h))[:, None]).T @ (design * (w * resid / (1 - h))[:, None])
    return np.sqrt(np.diag(bread @ meat @ bread))[1:]


def test_ols_hc3_standard_errors_equal_the_sandwich_formula():
    frame, cols = _random_drivers(300, 4, seed=21)
    frame["y"] += np.abs(frame["x0"]) * np.random.default_rng(1).normal(size=300)  # heteroskedastic
    x, y = frame[cols].to_numpy(), frame["y"].to_numpy()
    table = drivers.ols_drivers(frame, "y", cols)
    assert table["se_hc3"].to_numpy() == pytest.approx(_hc3(x, y, np.ones(300)), rel=1e-10)
    w = np.random.default_rng(2).uniform(0.5, 2.0, 300)
    weighted = drivers.ols_drivers(frame, "y", cols, weights=w)
    assert weighted["se_hc3"].to_numpy() == pytest.approx(_hc3(x, y, w), rel=1e-10)
    t_crit = stats.t.ppf(0.975, 300 - 5)
    assert (table["ci_high"] - table["beta"]).to_numpy() == pytest.approx(
        (t_crit * table["se_hc3"]).to_numpy(), rel=1e-10
    )
    p = 2 * stats.t.sf(np.abs(table["beta"] / table["se_hc3"]), 300 - 5)
    assert table["p_value"].to_numpy() == pytest.approx(np.asarray(p), rel=1e-8)


def _cr1(x: np.ndarray, y: np.ndarray, w: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Cluster-robust standard errors by the textbook sandwich with the CR1 factor
    G/(G-1) (N-1)/(N-K) (Cameron & Miller 2015), weighted."""
    design = np.column_stack([np.ones(len(x)), x])
    n, k = design.shape
    xw = design * w[:, None]
    bread = np.linalg.inv(design.T @ xw)
    beta = bread @ xw.T @ y
    score = design * (w * (y - design @ beta))[:, None]
    labels = np.unique(groups)
    sums = np.array([score[groups == g].sum(axis=0) for g in labels])
    factor = len(labels) / (len(labels) - 1) * (n - 1) / (n - k)
    return np.sqrt(np.diag(factor * bread @ (sums.T @ sums) @ bread))[1:]


def test_ols_cluster_standard_errors_equal_the_sandwich_formula():
    """With accounts, the effects' errors are clustered (CR1) and t has accounts - 1 degrees
    of freedom: 12 accounts, so t(11)."""
    frame, cols = _random_drivers(300, 4, seed=21)
    groups = np.random.default_rng(3).integers(0, 12, 300)
    frame["account"] = [f"K{g}" for g in groups]
    x, y = frame[cols].to_numpy(), frame["y"].to_numpy()
    for w in (np.ones(300), np.random.default_rng(2).uniform(0.5, 2.0, 300)):
        table = drivers.ols_drivers(frame, "y", cols, weights=w, cluster="account")
        assert "se_hc3" not in table
        assert table["se_cluster"].to_numpy() == pytest.approx(_cr1(x, y, w, groups), rel=1e-10)
    t_crit = stats.t.ppf(0.975, 12 - 1)
    assert (table["ci_high"] - table["beta"]).to_numpy() == pytest.approx(
        (t_crit * table["se_cluster"]).to_numpy(), rel=1e-10
    )
    # the driver table's "effect of +1 SD" takes them
    result = drivers.driver_table(frame, "y", cols, cluster="account", n_boot=50)
    plain = drivers.ols_drivers(frame, "y", cols, cluster="account")
    assert result["std_ci_high"].reindex(cols).to_numpy() == pytest.approx(
        plain["std_ci_high"].to_numpy(), rel=1e-10
    )


def _promoter_data(n: int = 600, seed: int = 9) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 11, size=(n, 3)).astype(float)
    eta = -6 + x @ [0.5, 0.3, 0.05]
    ltr = np.where(rng.random(n) < 1 / (1 + np.exp(-eta)), 9, 6)
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "ltr": ltr})


def test_logit_matches_direct_likelihood_maximisation():
    frame = _promoter_data()
    table = drivers.logit_drivers(frame, "ltr", ["a", "b", "c"], threshold=9)
    design = np.column_stack([np.ones(len(frame)), frame[["a", "b", "c"]].to_numpy()])
    y = (frame["ltr"] >= 9).to_numpy(dtype=float)

    def nll(b):
        eta = design @ b
        return -(y * eta - np.logaddexp(0, eta)).sum()

    fit = optimize.minimize(nll, np.zeros(4), method="BFGS", options={"gtol": 1e-9})
    assert table["coef"].to_numpy() == pytest.approx(fit.x[1:], abs=1e-5)
    assert table["odds_ratio"].to_numpy() == pytest.approx(np.exp(table["coef"]).to_numpy())
    prob = 1 / (1 + np.exp(-design @ fit.x))
    info = design.T @ (design * (prob * (1 - prob))[:, None])
    assert table["se"].to_numpy() == pytest.approx(
        np.sqrt(np.diag(np.linalg.inv(info)))[1:], rel=1e-4
    )
    assert table["or_ci_low"].lt(table["odds_ratio"]).all()
    assert table.attrs["n_events"] == int(y.sum())
    sd = frame[["a", "b", "c"]].std(ddof=0).to_numpy()
    assert table["std_coef"].to_numpy() == pytest.approx(table["coef"].to_numpy() * sd)


def _account_promoters(seed: int = 15) -> pd.DataFrame:
    """478 respondents of 70 accounts (1-12 each) who answer alike: an account effect moves
    both ratings and the chance to promote; 6 missing x2 ratings (listwise deletion)."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 13, size=70)
    account = np.repeat(np.arange(70), sizes)
    effect = rng.normal(size=70)[account]
    n = len(account)
    x = np.clip(np.rint(6.5 + 1.2 * effect[:, None] + rng.normal(size=(n, 2)) * 1.6), 1, 10)
    eta = -7.5 + 0.55 * x[:, 0] + 0.35 * x[:, 1] + 0.9 * effect
    frame = pd.DataFrame(
        {
            "account": [f"A{a:02d}" for a in account],
            "x1": x[:, 0],
            "x2": x[:, 1],
            "promoter": (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int),
            "weight": np.round(rng.uniform(0.5, 3.0, size=n), 2),
        }
    )
    frame.loc[rng.choice(n, size=6, replace=False), "x2"] = np.nan
    return frame


# R 4.2.2 with survey 4.1.1, on _account_promoters() written by
# frame.to_csv(path, index=False, na_rep="NA") and read back as d <- read.csv(path):
#   fit <- svyglm(promoter ~ x1 + x2, design = DESIGN, family = quasibinomial(),
#                 control = glm.control(epsilon = 1e-12, maxit = 100))
#   coef(summary(fit)) and confint(fit) (its default: t quantiles on fit$df.residual df)
# with DESIGN = svydesign(ids = ~account, weights = ~weight, data = d) ("account", "weight"),
# svydesign(ids = ~1, weights = ~weight, data = d) (None, "weight") and
# svydesign(ids = ~account, data = d) ("account", None). Rows x1, x2; the intercept apart.
# Without `control` the two weighted fits give the same digits; the unweighted one stops after
# 5 IRLS iterations (glm's default epsilon 1e-8) and, as svyglm takes its weights from the
# last-but-one iteration, its errors move by 2.4e-5 relative (x1: 0.093614461498).
SVYGLM = {
    ("account", "weight"): {
        "coef": [0.809308357508, 0.446920286847],
        "se": [0.110353140825, 0.105399068878],
        "p_value": [3.81541958628e-10, 6.99833110372e-05],
        "ci_low": [0.589042566529, 0.236542864859],
        "ci_high": [1.02957414849, 0.657297708834],
        "intercept": -10.060646091,
        "df": 67,
    },
    (None, "weight"): {
        "coef": [0.809308357508, 0.446920286847],
        "se": [0.100908073551, 0.0979091562586],
        "p_value": [8.50100556933e-15, 6.39978470948e-06],
        "ci_low": [0.61102046233, 0.254525369077],
        "ci_high": [1.00759625269, 0.639315204616],
        "intercept": -10.060646091,
        "df": 469,
    },
    ("account", None): {
        "coef": [0.774862043548, 0.445102897745],
        "se": [0.0936167391602, 0.0862684673162],
        "p_value": [7.62270408482e-12, 2.38943893208e-06],
        "ci_low": [0.588002250107, 0.272910316293],
        "ci_high": [0.961721836988, 0.617295479197],
        "intercept": -9.63938471723,
        "df": 67,
    },
}


@pytest.mark.parametrize(("cluster", "weights"), list(SVYGLM))
def test_design_based_logit_equals_r_svyglm(cluster, weights):
    frame = _account_promoters()
    # the data R saw (a changed numpy stream would show here first)
    assert (len(frame), frame["promoter"].sum(), frame["x1"].sum()) == (478, 126, 3110.0)
    table = drivers.logit_drivers(frame, "promoter", ["x1", "x2"], weights=weights, cluster=cluster)
    ref = SVYGLM[(cluster, weights)]
    assert table.attrs["variance"] == "design-based" and table.attrs["df"] == ref["df"]
    # measured: coefficients agree to R's 12 printed digits, errors to 1e-8 relative
    assert table["coef"].to_numpy() == pytest.approx(ref["coef"], rel=1e-7)
    assert table.attrs["intercept"] == pytest.approx(ref["intercept"], rel=1e-7)
    assert table["se"].to_numpy() == pytest.approx(ref["se"], rel=1e-6)
    assert table["p_value"].to_numpy() == pytest.approx(ref["p_value"], rel=1e-5)
    assert np.log(table["or_ci_low"]).to_numpy() == pytest.approx(ref["ci_low"], rel=1e-6)
    assert np.log(table["or_ci_high"]).to_numpy() == pytest.approx(ref["ci_high"], rel=1e-6)
    assert table["z"].to_numpy() == pytest.approx((table["coef"] / table["se"]).to_numpy())


def test_weighted_logit_errors_are_no_longer_the_model_based_ones():
    frame = _account_promoters()
    design = drivers.logit_drivers(frame, "promoter", ["x1", "x2"], weights="weight")
    # R 4.2.2: glm(promoter ~ x1 + x2, family = binomial(), weights = weight / mean(weight),
    # data = d[complete.cases(d), ]), the model-based errors logit_drivers reported before.
    model_based = np.array([0.0943502406833, 0.0859074060635])
    assert (design["se"].to_numpy() / model_based) == pytest.approx([1.0695, 1.1397], abs=1e-4)
    unweighted = drivers.logit_drivers(frame, "promoter", ["x1", "x2"])
    assert unweighted.attrs["variance"] == "model-based"
    assert unweighted.attrs["df"] == float("inf")


def test_weights_as_repeated_rows_of_one_account_give_the_same_design_based_logit():
    frame = _promoter_data(400, seed=3).assign(account=lambda f: np.arange(len(f)) // 4)
    reps = np.arange(400) % 3 + 1
    weighted = drivers.logit_drivers(
        frame, "ltr", ["a", "b", "c"], reps, threshold=9, cluster="account"
    )
    repeated = frame.loc[frame.index.repeat(reps)].reset_index(drop=True)
    expanded = drivers.logit_drivers(
        repeated, "ltr", ["a", "b", "c"], threshold=9, cluster="account"
    )
    # the same account totals of the influence values: identical estimates and errors
    assert weighted["coef"].to_numpy() == pytest.approx(expanded["coef"].to_numpy(), rel=1e-8)
    assert weighted["se"].to_numpy() == pytest.approx(expanded["se"].to_numpy(), rel=1e-8)
    assert weighted.attrs["n_clusters"] == expanded.attrs["n_clusters"] == 100


def test_a_respondent_without_account_is_an_account_of_its_own():
    frame = _account_promoters()
    unknown = frame.index[::25]
    missing = frame.assign(account=frame["account"].where(~frame.index.isin(unknown)))
    labels = pd.Series("own_" + frame.index.astype(str), index=frame.index)
    own = frame.assign(account=frame["account"].where(~frame.index.isin(unknown), labels))
    table = drivers.logit_drivers(missing, "promoter", ["x1", "x2"], cluster="account")
    expected = drivers.logit_drivers(own, "promoter", ["x1", "x2"], cluster="account")
    pd.testing.assert_frame_equal(table, expected)
    assert table.attrs["n_clusters"] == own["account"].nunique() > frame["account"].nunique()


def _separated(seed: int = 9, *, n: int = 600, overlap: bool) -> pd.DataFrame:
    """_promoter_data plus 'rush': every promoter rates it 8-10 (7-10 with ``overlap``), every
    other respondent 1-7: complete (quasi-complete with the shared 7) separation."""
    frame = _promoter_data(n, seed)
    rng = np.random.default_rng(seed + 1)
    promoter = frame["ltr"].to_numpy() >= 9
    low = 7 if overlap else 8
    frame["rush"] = np.where(promoter, rng.integers(low, 11, n), rng.integers(1, 8, n))
    return frame


@pytest.mark.parametrize("overlap", [False, True])
@pytest.mark.parametrize("weights", [None, "w"])
def test_separation_raises_once_and_names_the_driver(overlap, weights):
    frame = _separated(overlap=overlap).assign(w=lambda f: np.linspace(0.5, 2.0, len(f)))
    low = 7 if overlap else 8
    message = (
        r"driver\(s\) \['rush'\] separate the outcome 'ltr' >= 9 on its own, completely or "
        rf"quasi-completely \(rush: events {low} to 10, others 1 to 7\)"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # statsmodels' per-iteration warnings stay inside
        with pytest.raises(DataError, match=message):
            drivers.logit_drivers(frame, "ltr", ["a", "b", "rush"], weights, threshold=9)
    # without the separating driver the same data fit, with one note at most per warning
    table = drivers.logit_drivers(frame, "ltr", ["a", "b"], weights, threshold=9)
    assert np.isfinite(table["se"]).all() and table["coef"].abs().lt(5).all()
    assert len(table.attrs["notes"]) == len(set(table.attrs["notes"]))


def test_joint_separation_names_the_drivers_that_separate_together():
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(rng.integers(1, 11, size=(800, 3)).astype(float), columns=["a", "b", "c"])
    total = frame["a"] + frame["b"]
    # quasi-complete: a + b > 11 always an event, < 11 never, = 11 either
    frame["event"] = np.where(total > 11, 1, np.where(total < 11, 0, rng.integers(0, 2, 800)))
    with pytest.raises(
        DataError, match=r"driver\(s\) \['a', 'b'\] separate the outcome 'event' jointly"
    ):
        drivers.logit_drivers(frame, "event", ["a", "b", "c"])
    with pytest.raises(DataError, match=r"\['a', 'b'\] separate .* jointly"):
        drivers.logit_drivers(frame, "event", ["c", "a", "b"], weights=np.linspace(1, 2, 800))
    # not separated: a coin decides within a + b = 10..12
    frame["event"] = np.where(total > 12, 1, np.where(total < 10, 0, rng.integers(0, 2, 800)))
    table = drivers.logit_drivers(frame, "event", ["a", "b", "c"])
    assert table["coef"][["a", "b"]].gt(1).all() and abs(table.loc["c", "coef"]) < 0.5


def test_logit_needs_a_binary_outcome_and_enough_events():
    frame = _promoter_data()
    with pytest.raises(DataError, match="0/1"):
        drivers.logit_drivers(frame, "ltr", ["a", "b"])
    few = frame.assign(ltr=np.where(np.arange(len(frame)) < 15, 9, 6))
    result = drivers.logit_drivers(few, "ltr", ["a", "b", "c"], threshold=9)
    assert result.attrs["suppressed"] and "events per driver" in result.attrs["reason"]
    assert result["odds_ratio"].isna().all()


# ---------------------------------------------------------------------------------------------
# Bootstrap
# ---------------------------------------------------------------------------------------------


def test_vectorized_bootstrap_equals_a_loop_over_resampled_weights(swiss):
    n_boot, seed = 40, 7
    boot = drivers.bootstrap_importance(
        swiss, "Fertility", SWISS_X, n_boot=n_boot, seed=seed, rows_per_driver=5
    )
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(len(swiss), np.full(len(swiss), 1 / len(swiss)), size=n_boot)
    reps = _replicates_by_loop(swiss, "Fertility", SWISS_X, counts)
    lo, hi = np.quantile(reps, [0.025, 0.975], axis=0)
    ordered = boot.reindex(SWISS_X)
    assert ordered["ci_low"].to_numpy() == pytest.approx(lo, abs=1e-10)
    assert ordered["ci_high"].to_numpy() == pytest.approx(hi, abs=1e-10)
    assert ordered["se"].to_numpy() == pytest.approx(reps.std(axis=0, ddof=1), abs=1e-10)
    point = drivers.relative_importance(swiss, "Fertility", SWISS_X, rows_per_driver=5)
    assert ordered["importance"].to_numpy() == pytest.approx(point["importance"].to_numpy())
    assert list(boot["rank"]) == [1, 2, 3, 4, 5]
    assert ((boot["rank_ci_low"] <= boot["rank"]) & (boot["rank"] <= boot["rank_ci_high"])).all()
    _assert_paired_verdicts(boot, SWISS_X, point["importance"].to_numpy(), reps)


def _replicates_by_loop(frame, outcome, cols, counts) -> np.ndarray:
    """Independent reference: one relative_importance call per replicate, counts as weights."""
    return np.array(
        [
            drivers.relative_importance(
                frame, outcome, cols, weights=c, min_n=1, rows_per_driver=1
            )["importance"].to_numpy()
            for c in counts
        ]
    )


def _assert_paired_verdicts(boot, cols, point, reps) -> None:
    """Each pair's record and verdict, recomputed from the looped replicates."""
    records = {(r["driver_a"], r["driver_b"]): r for r in boot.attrs["differences"]}
    assert len(records) == len(cols) * (len(cols) - 1) // 2
    partners: dict[str, list[str]] = {c: [] for c in cols}
    for i, j in itertools.combinations(range(len(cols)), 2):
        diff = reps[:, i] - reps[:, j]
        lo, hi = np.quantile(diff, [0.025, 0.975])
        record = records[(cols[i], cols[j])]
        assert (record["ci_low"], record["ci_high"]) == pytest.approx((lo, hi), abs=1e-10)
        d = point[i] - point[j]
        assert record["share_reversed"] == pytest.approx(np.mean(diff * np.sign(d) <= 0))
        assert record["separated"] == bool((lo > 0 and d > 0) or (hi < 0 and d < 0))
        if not record["separated"]:
            partners[cols[i]].append(cols[j])
            partners[cols[j]].append(cols[i])
    assert boot["not_separable_from"].to_dict() == {c: ", ".join(p) for c, p in partners.items()}


def test_bootstrap_is_reproducible():
    frame, cols = _random_drivers(2000, 8, seed=12)
    first = drivers.bootstrap_importance(frame, "y", cols, n_boot=500, seed=3)
    again = drivers.bootstrap_importance(frame, "y", cols, n_boot=500, seed=3)
    pd.testing.assert_frame_equal(first, again)
    assert first.attrs["n_valid"] == 500
    assert first["ci_low"].le(first["importance"]).all()
    assert first["importance"].le(first["ci_high"]).all()


def _account_ratings(seed: int = 31, n_accounts: int = 60) -> tuple[pd.DataFrame, list[str]]:
    """Respondents of accounts that answer alike: an account effect larger than the
    respondent's own variation on every rating and on the outcome; a few missing ratings
    and a few respondents without an account."""
    rng = np.random.default_rng(seed)
    account = np.repeat(np.arange(n_accounts), rng.integers(2, 15, n_accounts))
    n = len(account)
    x = rng.normal(size=(n_accounts, 4))[account] * 1.5 + rng.normal(size=(n, 4)) * 0.5
    y = x @ [0.8, 0.5, 0.3, 0.1] + rng.normal(size=n_accounts)[account] + rng.normal(size=n)
    cols = ["quality", "delivery", "support", "invoicing"]
    frame = pd.DataFrame(x, columns=cols).assign(y=y, account=[f"K{a}" for a in account])
    frame.loc[rng.choice(n, 8, replace=False), "support"] = np.nan
    frame.loc[rng.choice(n, 5, replace=False), "account"] = None
    return frame, cols


def test_cluster_bootstrap_equals_a_loop_over_drawn_accounts():
    frame, cols = _account_ratings()
    n_boot, seed = 30, 5
    boot = drivers.bootstrap_importance(
        frame, "y", cols, n_boot=n_boot, seed=seed, cluster="account"
    )
    # the analysis sample: complete rows; an unknown account is an account of its own
    complete = frame.dropna(subset=cols).reset_index(drop=True)
    codes = cluster_codes(complete["account"].to_numpy(dtype=object), len(complete))
    n_clusters = int(codes.max()) + 1
    assert (
        boot.attrs["n_clusters"]
        == n_clusters
        == complete["account"].nunique() + int(complete["account"].isna().sum())
    )
    rng = np.random.default_rng(seed)
    drawn = rng.multinomial(n_clusters, np.full(n_clusters, 1 / n_clusters), size=n_boot)
    counts = drawn[:, codes]  # every respondent of a drawn account, as often as it is drawn
    reps = _replicates_by_loop(complete, "y", cols, counts)
    ordered = boot.reindex(cols)
    lo, hi = np.quantile(reps, [0.025, 0.975], axis=0)
    assert ordered["ci_low"].to_numpy() == pytest.approx(lo, abs=1e-10)
    assert ordered["ci_high"].to_numpy() == pytest.approx(hi, abs=1e-10)
    assert ordered["se"].to_numpy() == pytest.approx(reps.std(axis=0, ddof=1), abs=1e-10)
    point = drivers.relative_importance(frame, "y", cols)["importance"].to_numpy()
    _assert_paired_verdicts(boot, cols, point, reps)
    assert boot.attrs["cluster"] == "account" and boot.attrs["n_valid"] == n_boot


def test_one_respondent_per_account_is_plain_case_resampling():
    frame, cols = _random_drivers(300, 4, seed=2)
    frame["account"] = [f"acc{i}" for i in range(300)]
    plain = drivers.bootstrap_importance(frame, "y", cols, n_boot=200, seed=9)
    clustered = drivers.bootstrap_importance(
        frame, "y", cols, n_boot=200, seed=9, cluster="account"
    )
    pd.testing.assert_frame_equal(plain, clustered, check_exact=True)
    assert clustered.attrs["n_clusters"] == plain.attrs["n_clusters"] == 300
    assert clustered.attrs["differences"] == plain.attrs["differences"]


def test_cluster_bootstrap_widens_intervals_when_accounts_answer_alike():
    frame, cols = _account_ratings()
    respondents = drivers.bootstrap_importance(frame, "y", cols, n_boot=400, seed=1)
    accounts = drivers.bootstrap_importance(frame, "y", cols, n_boot=400, seed=1, cluster="account")
    pd.testing.assert_series_equal(respondents["importance"], accounts["importance"])
    # about 60 independent accounts, not ~480 independent respondents
    ratio = accounts["se"] / respondents["se"].reindex(accounts.index)
    assert ratio.min() > 1.5, ratio.to_dict()
    assert any("cluster bootstrap" in n for n in accounts.attrs["notes"])


def test_one_account_gives_no_intervals():
    frame, cols = _random_drivers(200, 3, seed=4)
    boot = drivers.bootstrap_importance(frame.assign(account="K1"), "y", cols, cluster="account")
    assert boot["ci_low"].isna().all() and boot.attrs["n_valid"] == 0
    assert boot["importance"].notna().all() and boot.attrs["overlap_notes"] == []
    assert "nothing to resample" in boot.attrs["notes"][-1]


def test_too_few_accounts_give_no_intervals():
    """Five accounts allow only 126 distinct replicates: no intervals, no pair said separated
    or not, and a note saying why; the point importances stay."""
    frame, cols = _random_drivers(200, 3, seed=4)
    frame["account"] = [f"K{i % 5}" for i in range(len(frame))]
    boot = drivers.bootstrap_importance(frame, "y", cols, cluster="account")
    assert boot["ci_low"].isna().all() and boot["rank_ci_low"].isna().all()
    assert boot.attrs["n_valid"] == 0 and boot["importance"].notna().all()
    assert all(d["separated"] is None for d in boot.attrs["differences"])
    assert "only 5 clusters" in boot.attrs["notes"][-1]
    assert drivers.MIN_BOOTSTRAP_CLUSTERS == 10
    frame["account"] = [f"K{i % 10}" for i in range(len(frame))]
    assert drivers.bootstrap_importance(frame, "y", cols, cluster="account").attrs["n_valid"] > 0


def test_paired_difference_separates_drivers_whose_intervals_overlap():
    rng = np.random.default_rng(15)
    x1, x2 = rng.normal(size=300), rng.normal(size=300)
    # heavy-tailed noise moves both importances together; their difference moves less
    y = x1 + 0.7 * x2 + rng.standard_t(2.5, size=300)
    frame = pd.DataFrame({"x1": x1, "x2": x2, "y": y})
    boot = drivers.bootstrap_importance(frame, "y", ["x1", "x2"], n_boot=1000, seed=1)
    assert boot.loc["x1", "ci_low"] < boot.loc["x2", "ci_high"] - 0.04  # intervals overlap
    (record,) = boot.attrs["differences"]
    assert record["ci_low"] > 0.04 and record["separated"] and record["share_reversed"] < 0.025
    assert list(boot["not_separable_from"]) == ["", ""] and boot.attrs["overlap_notes"] == []
    table = drivers.driver_table(frame, "y", ["x1", "x2"], n_boot=1000, seed=1)
    assert list(table["not_separable_from"]) == ["", ""] and table.attrs["overlap_notes"] == []


def test_overlap_notes_name_neighbours_whose_paired_difference_does_not_separate():
    names = ["product_quality", "delivery", "post_sales_support", "invoicing"]
    boot = pd.DataFrame({"importance": [0.30, 0.22, 0.20, 0.05]}, index=pd.Index(names))

    def record(a, b, separated, share):
        return {"driver_a": a, "driver_b": b, "separated": separated, "share_reversed": share}

    boot.attrs["conf"] = 0.9
    boot.attrs["differences"] = [
        record("product_quality", "delivery", True, 0.01),  # overlapping intervals or not
        record("delivery", "post_sales_support", False, 0.31),
        record("invoicing", "post_sales_support", True, 0.0),  # either order of the pair
        record("product_quality", "invoicing", False, 0.2),  # not neighbours: no note
    ]
    assert drivers.overlap_notes(boot) == [
        "delivery and post_sales_support cannot be separated: the 90% bootstrap interval of "
        "their difference in importance does not confirm their order (reversed in 31% of "
        "resamples)"
    ]
    boot.attrs["differences"][0]["separated"] = None  # no intervals: no verdict, no note
    assert len(drivers.overlap_notes(boot)) == 1
    del boot.attrs["differences"]
    with pytest.raises(DataError, match="overlap_notes: expected the output of bootstrap"):
        drivers.overlap_notes(boot)


def test_bootstrap_suppressed_below_the_minimum(swiss):
    boot = drivers.bootstrap_importance(swiss.head(20), "Fertility", SWISS_X, n_boot=50)
    assert boot.attrs["suppressed"] and boot["ci_low"].isna().all()
    assert boot.attrs["overlap_notes"] == []


# ---------------------------------------------------------------------------------------------
# Stated importance, IPA, Pareto, the report table
# ---------------------------------------------------------------------------------------------


def test_stated_importance_means_and_standard_errors():
    rng = np.random.default_rng(6)
    frame = pd.DataFrame(
        {
            "importance_delivery": rng.integers(1, 11, 80),
            "importance_product_quality": rng.integers(5, 11, 80),
            "importance_invoicing_accuracy": pd.array([7] * 10 + [pd.NA] * 70, dtype="Int64"),
        }
    )
    table = drivers.stated_importance(frame)
    assert list(table.index) == ["delivery", "product_quality", "invoicing_accuracy"]
    for name in ("delivery", "product_quality"):
        col = frame[f"importance_{name}"]
        assert table.loc[name, "mean"] == pytest.approx(col.mean())
        assert table.loc[name, "se"] == pytest.approx(stats.sem(col))
    assert table.loc["invoicing_accuracy", "suppressed"]
    assert np.isnan(table.loc["invoicing_accuracy", "mean"])
    assert table.loc["invoicing_accuracy", "n"] == 10


def test_stated_vs_derived_ranks_disagreement_and_spearman():
    derived = pd.DataFrame(
        {"importance": [0.30, 0.20, 0.10, 0.05]},
        index=["post_sales_support", "delivery", "product_quality", "total_cost_of_ownership"],
    )
    stated = {
        "total_cost_of_ownership": 9.1,
        "product_quality": 8.7,
        "delivery": 8.0,
        "post_sales_support": 7.9,
        "ease_of_ordering": 6.0,
    }
    table = drivers.stated_vs_derived(derived, stated)
    assert list(table.index[:2]) == ["post_sales_support", "total_cost_of_ownership"]
    assert table.loc["post_sales_support", "rank_difference"] == 3
    assert table.loc["post_sales_support", "reading"] == "more important than stated"
    assert table.loc["total_cost_of_ownership", "rank_difference"] == -3
    assert table.attrs["spearman"] == pytest.approx(-1.0)
    assert table.attrs["only_stated"] == ["ease_of_ordering"]
    from_frame = drivers.stated_vs_derived(derived, pd.DataFrame({"mean": pd.Series(stated)}))
    pd.testing.assert_frame_equal(table, from_frame)


def test_importance_performance_quadrants():
    importance = pd.Series({"a": 0.30, "b": 0.25, "c": 0.05, "d": 0.02})
    performance = pd.Series({"a": 6.1, "b": 8.4, "c": 6.0, "d": 8.9, "e": 7.0})
    table = drivers.importance_performance(importance, performance)
    assert table["quadrant"].to_dict() == {
        "a": "concentrate here",
        "b": "keep up the good work",
        "c": "low priority",
        "d": "possible overkill",
    }
    assert table.attrs["importance_split"] == pytest.approx(0.15)
    assert table.attrs["left_out"] == ["e"]


def test_dissatisfaction_pareto_counts_and_vital_few():
    # Low = 1 or 2 on 1-10. Counted by hand: a 6 low, b 3, c 1, d 0 (total 10, min_n 10).
    frame = pd.DataFrame(
        {
            "a": [1, 2, 1, 2, 1, 2] + [8] * 34,
            "b": [1, 1, 2] + [9] * 37,
            "c": [2] + [7] * 39,
            "d": [10] * 40,
            "e": [1, 1, 1, 1] + [np.nan] * 36,
        }
    )
    table = drivers.dissatisfaction_pareto(
        frame, ["a", "b", "c", "d", "e"], scale=(1, 10), min_n=10
    )
    assert list(table.index) == ["a", "b", "c", "d", "e"]
    assert table.attrs["ranked"] and table.attrs["min_n"] == 10
    assert table["n_low"].iloc[:4].tolist() == [6, 3, 1, 0]
    assert table["share_of_all_low"].iloc[:4].to_numpy() == pytest.approx([0.6, 0.3, 0.1, 0.0])
    assert table["cumulative"].iloc[:4].to_numpy() == pytest.approx([0.6, 0.9, 1.0, 1.0])
    assert table["vital_few"].tolist() == [True, True, False, False, False]
    assert table.loc["e", "suppressed"] and pd.isna(table.loc["e", "n_low"])
    assert table.loc["a", "share_low"] == pytest.approx(6 / 40)
    with pytest.raises(DataError, match=r"'b'.*99.*outside"):
        drivers.dissatisfaction_pareto(frame.assign(b=99), ["a", "b"], scale=(1, 10))
    # cutoff 100%: every attribute with a low score is needed, the one without none is not
    every = drivers.dissatisfaction_pareto(
        frame, ["a", "b", "c", "d"], scale=(1, 10), min_n=10, cutoff=1.0
    )
    assert every["vital_few"].tolist() == [True, True, True, False]


def _low_scores(counts: list[int], n: int = 40) -> pd.DataFrame:
    """One attribute per count: that many ratings of 1 (low) and the rest 9, n ratings each."""
    return pd.DataFrame({f"q{i}": [1] * k + [9] * (n - k) for i, k in enumerate(counts)})


def test_pareto_ranks_nothing_below_min_n_low_scores_in_all():
    # the DE wave that showed the bug: 14 low scores in all (7, 2, 2, 1, 1, 1, 0, 0), min_n 30;
    # the "vital few" then included an attribute with 1 low score of the 14
    counts = [7, 2, 2, 1, 1, 1, 0, 0]
    frame = _low_scores(counts)
    frame.loc[30:, "q1"] = np.nan  # 10 did not rate q1: its n is 30
    few = drivers.dissatisfaction_pareto(frame, list(frame.columns), scale=(1, 10), min_n=30)
    assert few["n_low"].tolist() == counts
    assert few.loc["q1", "n"] == 30 and few.loc["q1", "share_low"] == pytest.approx(2 / 30)
    assert not few["vital_few"].any()
    assert few.attrs["total_low"] == 14 and few.attrs["min_n"] == 30
    assert few.attrs["ranked"] is False
    # the same low scores with min_n 14 reach it: ranked, 7/14, 9/14, 11/14 < 80% <= 12/14
    ranked = drivers.dissatisfaction_pareto(frame, list(frame.columns), scale=(1, 10), min_n=14)
    assert ranked.attrs["ranked"] is True
    assert ranked["vital_few"].tolist() == [True] * 4 + [False] * 4


def test_pareto_reads_each_attribute_scale():
    # "Low" is the two lowest points of each attribute's own scale: 1-2 on 1-5, 0-1 on 0-10.
    frame = pd.DataFrame({"five": [1, 2, 3, 5] * 10, "ten": [0, 1, 2, 10] * 10})
    frame.attrs["scales"] = {"five": [1, 5], "ten": [0, 10]}
    table = drivers.dissatisfaction_pareto(frame, ["five", "ten"], min_n=30)
    assert table["n_low"].tolist() == [20, 20]
    assert table.attrs["low_range"] == {"five": (1, 2), "ten": (0, 1)}
    assert table.attrs["low_max"] == {"five": 2, "ten": 1}
    mapped = drivers.dissatisfaction_pareto(frame, ["five"], scale={"five": (1, 5)}, min_n=30)
    assert mapped.attrs["low_max"] == 2
    with pytest.raises(DataError, match="no entry for column .ten."):
        drivers.dissatisfaction_pareto(frame, ["ten"], scale={})
    with pytest.raises(DataError, match="'ten' has no scale known"):
        drivers.dissatisfaction_pareto(pd.DataFrame({"ten": [1, 2]}), ["ten"])


def test_driver_table_combines_the_pieces(swiss):
    table = drivers.driver_table(swiss, "Fertility", SWISS_X, n_boot=100, rows_per_driver=5)
    assert list(table["rank"]) == [1, 2, 3, 4, 5]
    assert table.index[0] == "Education"
    ols = drivers.ols_drivers(swiss, "Fertility", SWISS_X, rows_per_driver=5)
    assert table["std_beta"].to_numpy() == pytest.approx(
        ols.loc[table.index, "std_beta"].to_numpy()
    )
    assert table["performance"].to_numpy() == pytest.approx(swiss[table.index].mean().to_numpy())
    assert table["share"].sum() == pytest.approx(1.0)
    assert set(table["quadrant"]) <= {
        "concentrate here",
        "keep up the good work",
        "low priority",
        "possible overkill",
    }
    assert table.attrs["overlap_notes"] and not table["suppressed"].any()
    small = drivers.driver_table(swiss.head(25), "Fertility", SWISS_X, n_boot=50)
    estimates = ["importance", "ci_low", "share", "std_beta", "p_value", "performance"]
    assert small["suppressed"].all() and small[estimates].isna().all().all()
    assert (small["n"] == 25).all()


def test_min_n_one_lets_a_small_sample_through_and_never_raises(swiss):
    # 12 provinces, 5 drivers, 2 rows per driver: enough under min_n=1, not under the default 30
    head = swiss.head(12)
    table = drivers.driver_table(head, "Fertility", SWISS_X, n_boot=50, min_n=1, rows_per_driver=2)
    shapley = drivers.relative_importance(head, "Fertility", SWISS_X, min_n=1, rows_per_driver=2)
    assert not table["suppressed"].any() and (table["n"] == 12).all()
    assert table["importance"].to_numpy() == pytest.approx(
        shapley.loc[table.index, "importance"].to_numpy(), rel=1e-12
    )
    default = drivers.driver_table(head, "Fertility", SWISS_X, n_boot=50, rows_per_driver=2)
    assert default["suppressed"].all()
    # a driver only one respondent rated leaves one complete row: suppressed, with the reason
    rare = swiss.assign(Rare=[3.0] + [np.nan] * 46)
    lone = drivers.driver_table(
        rare, "Fertility", [*SWISS_X, "Rare"], n_boot=50, min_n=1, rows_per_driver=1
    )
    assert lone["suppressed"].all() and (lone["n"] == 1).all()
    assert lone["importance"].isna().all() and "constant" in lone.attrs["reason"]


def test_pareto_min_n_one_counts_an_attribute_rated_once():
    frame = pd.DataFrame({"a": [1, 2, 9, 10], "once": [1.0, np.nan, np.nan, np.nan]})
    table = drivers.dissatisfaction_pareto(frame, ["a", "once"], scale=(1, 10), min_n=1)
    assert not table["suppressed"].any()
    assert table.loc["once", "n"] == 1 and table.loc["once", "n_low"] == 1
    assert table.loc["a", "n_low"] == 2 and table.attrs["total_low"] == 3
    assert table.loc["once", "share_of_all_low"] == pytest.approx(1 / 3)
    suppressed = drivers.dissatisfaction_pareto(frame, ["a", "once"], scale=(1, 10), min_n=2)
    assert suppressed.loc["once", "suppressed"] and suppressed.attrs["total_low"] == 2


@pytest.mark.parametrize("bad", [0, True, 1.5])
def test_min_n_must_be_an_int_of_at_least_one(swiss, bad):
    calls = {
        "relative_importance": lambda: drivers.relative_importance(
            swiss, "Fertility", SWISS_X, min_n=bad
        ),
        "ols_drivers": lambda: drivers.ols_drivers(swiss, "Fertility", SWISS_X, min_n=bad),
        "logit_drivers": lambda: drivers.logit_drivers(
            swiss, "Fertility", SWISS_X, threshold=70, min_n=bad
        ),
        "bootstrap_importance": lambda: drivers.bootstrap_importance(
            swiss, "Fertility", SWISS_X, min_n=bad
        ),
        "driver_table": lambda: drivers.driver_table(swiss, "Fertility", SWISS_X, min_n=bad),
        "dissatisfaction_pareto": lambda: drivers.dissatisfaction_pareto(
            swiss, ["Education"], scale=(0, 100), min_n=bad
        ),
        "stated_importance": lambda: drivers.stated_importance(
            swiss, ["Education"], prefix="", min_n=bad
        ),
    }
    for func, call in calls.items():
        message = f"The 'min_n' parameter of {func} must be an int >= 1; got {bad!r}."
        with pytest.raises(DataError, match=re.escape(message)):
            call()


def test_conf_and_columns_messages_name_the_public_function(swiss):
    with pytest.raises(DataError, match="'conf' parameter of ols_drivers .* got 95"):
        drivers.ols_drivers(swiss, "Fertility", SWISS_X, conf=95)
    with pytest.raises(DataError, match="'conf' parameter of driver_table .* got 1.0"):
        drivers.driver_table(swiss, "Fertility", SWISS_X, conf=1.0)
    with pytest.raises(DataError, match=r"driver_table: missing column\(s\) 'Religion'"):
        drivers.driver_table(swiss, "Fertility", ["Religion"])
    with pytest.raises(DataError, match="'weights' parameter of logit_drivers .* got 'w'"):
        drivers.logit_drivers(swiss, "Fertility", SWISS_X, weights="w", threshold=70)


# ---------------------------------------------------------------------------------------------
# Validity on the synthetic sample (csatlib.sample.synth): the true ranking must come back
# ---------------------------------------------------------------------------------------------

ATTRIBUTES = [  # Q7_1 .. Q7_8, in the order of docs/data_model.md
    "product_quality",
    "total_cost_of_ownership",
    "post_sales_support",
    "on_site_service",
    "delivery",
    "invoicing_accuracy",
    "ease_of_ordering",
    "account_management",
]


def _read_raw_relationship(raw_dir, *, drop_speeders: bool = True) -> pd.DataFrame:
    """Minimal read of the raw Qualtrics export, independent of csatlib.ingest.io/clean.

    Speeders answer at random (ground_truth.json: durations 45..170 s, every other response
    takes at least half the median), which drowns the drivers in noise; exact duplicate rows
    are dropped as well.
    """
    from csatlib.sample.synth import COUNTRY_SPELLINGS  # the generator's own spelling table

    raw = pd.read_csv(
        raw_dir / "relationship_survey.csv",
        skiprows=[1, 2],
        dtype=str,
        keep_default_na=False,  # "NA" is Namibia
        encoding="utf-8-sig",
    )
    raw = raw[~raw.duplicated()]
    spelling = {s: code for code, pairs in COUNTRY_SPELLINGS.items() for s, _ in pairs}
    out = pd.DataFrame({"country": raw["Q1"].str.strip().map(spelling)})
    out["brand"] = raw["Q4"].str.strip()
    scales = {"Q5": ("likelihood_to_recommend", 0, 10)}
    scales |= {f"Q7_{k + 1}": (a, 1, 10) for k, a in enumerate(ATTRIBUTES)}
    for source, (name, low, high) in scales.items():
        value = pd.to_numeric(raw[source].str.strip(), errors="coerce")  # "n/a" -> NaN
        out[name] = value.where(value.between(low, high))  # 99 and out-of-range -> NaN
    duration = pd.to_numeric(raw["Duration (in seconds)"], errors="coerce")
    keep = out["brand"] == "Contoso"
    if drop_speeders:
        keep &= ~(duration < 0.5 * duration.median())
    return out[keep]


def _validity_table(raw_dir, *, drop_speeders: bool = True) -> pd.DataFrame:
    truth = json.loads((raw_dir / "ground_truth.json").read_text(encoding="utf-8"))["countries"]
    data = _read_raw_relationship(raw_dir, drop_speeders=drop_speeders)
    rows = []
    for country, group in data.groupby("country"):
        result = drivers.relative_importance(group, "likelihood_to_recommend", ATTRIBUTES)
        if result.attrs["n"] < 300:
            continue
        true_top = truth[country]["driver_ranking"][:3]
        derived_top = list(result.sort_values("rank").index[:3])
        rows.append(
            {
                "country": country,
                "n": result.attrs["n"],
                "r2": result.attrs["r2"],
                "true_top3": true_top,
                "derived_top3": derived_top,
                "same_set": set(true_top) == set(derived_top),
                "same_order": true_top == derived_top,
            }
        )
    return pd.DataFrame(rows).set_index("country")


@pytest.mark.skipif(
    not (RAW_DIR / "relationship_survey.csv").exists()
    or not (RAW_DIR / "ground_truth.json").exists(),
    reason="sample data not generated yet (make synth)",
)
def test_shapley_recovers_the_true_top_three_drivers_per_country():
    table = _validity_table(RAW_DIR)
    assert len(table) >= 10  # every big country has n >= 300
    wrong = table[~table["same_set"]]
    assert wrong.empty, wrong[["true_top3", "derived_top3"]].to_string()


def test_cluster_bootstrap_moments_per_account_equal_those_per_respondent() -> None:
    """The cluster bootstrap sums each account's moments once and weights them by the draws:
    the correlations equal those of the expanded per-respondent counts (to rounding), with
    sampling weights, so its cost follows the accounts, not the rows."""
    rng = np.random.default_rng(7)
    n, k, accounts = 600, 4, 25
    codes = rng.integers(0, accounts, n)
    x = rng.normal(size=(n, k)) + rng.normal(size=(accounts, k))[codes]
    w = rng.uniform(0.5, 2.0, n)
    drawn = rng.multinomial(accounts, np.full(accounts, 1 / accounts), size=40).astype(float)
    fast = drivers._replicate_corr_clustered(x, drawn, codes, w)
    slow = drivers._replicate_corr(x, drawn[:, codes], w)
    np.testing.assert_allclose(fast, slow, rtol=1e-10, atol=1e-12)
