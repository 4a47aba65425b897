"""csatlib.stats.disclosure: secondary suppression over linked tables, checked on hand-worked
tables and by the attack itself (can a hidden cell's sum be solved from the shown ones?)."""

from __future__ import annotations

import numpy as np
import pytest

from csatlib.errors import DataError
from csatlib.stats.disclosure import COMPLEMENTARY, SMALL, linked_suppression


def _grid(n: np.ndarray) -> tuple[list[list[int]], list[int], list[list[int]]]:
    """A table of units (rows) by products (columns) with its row totals and column totals
    published: cells 0..r*c-1 row by row, then one margin cell per column (the study-wide
    table). Lines: each row (adding up to its published total), each column (adding up to its
    margin: the margin on the other side)."""
    rows, cols = n.shape
    lines = [[r * cols + c for c in range(cols)] for r in range(rows)]
    lines += [[r * cols + c for r in range(rows)] + [rows * cols + c] for c in range(cols)]
    signs = [[1] * cols for _ in range(rows)] + [[1] * rows + [-1] for _ in range(cols)]
    return lines, [*n.ravel().tolist(), *n.sum(axis=0).tolist()], signs


def _determined(
    why: np.ndarray, lines: list[list[int]], counts: list[int], signs: list[list[int]]
) -> list[int]:
    """Hidden cells whose sum the shown cells determine: those whose unit vector lies in the
    row space of the lines restricted to the hidden terms (each line one equation)."""
    hidden = [i for i, w in enumerate(why) if w and counts[i] > 0]
    if not hidden:
        return []
    pos = {c: k for k, c in enumerate(hidden)}
    a = np.zeros((len(lines), len(hidden)))
    for r, (line, sign) in enumerate(zip(lines, signs, strict=True)):
        for c, v in zip(line, sign, strict=True):
            if c in pos:
                a[r, pos[c]] = v
    rank = np.linalg.matrix_rank(a)
    out = []
    for c, k in pos.items():
        unit = np.zeros((1, len(hidden)))
        unit[0, k] = 1.0
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            out.append(c)
    return out


def test_a_lone_small_cell_takes_the_smallest_other_with_it() -> None:
    why = linked_suppression([40, 12, 35, 90], [[0, 1, 2, 3]], min_n=30)
    assert why.tolist() == ["", SMALL, COMPLEMENTARY, ""]


def test_two_small_cells_need_no_help_and_empty_cells_are_no_terms() -> None:
    assert linked_suppression([40, 12, 9, 0], [[0, 1, 2, 3]], min_n=30).tolist() == [
        "",
        SMALL,
        SMALL,
        "",
    ]
    # an empty cell neither counts as hidden nor can be hidden to protect another
    assert linked_suppression([0, 12, 50], [[0, 1, 2]], min_n=30).tolist() == [
        "",
        SMALL,
        COMPLEMENTARY,
    ]


def test_the_preferred_terms_are_hidden_first() -> None:
    # a product across units and its study-wide cell (position 3): a unit's cell goes first
    why = linked_suppression([10, 80, 60, 150], [[0, 1, 2, 3]], min_n=30, prefer=[[0, 1, 2]])
    assert why.tolist() == [SMALL, "", COMPLEMENTARY, ""]


def test_complements_spread_instead_of_emptying_one_units_table() -> None:
    # a tiny unit (row 0) small in every column: each column needs a second hidden cell, and
    # they go two to a unit (a unit needs two hidden cells in its row, or none)
    n = np.array([[5, 8, 6, 7], [90, 80, 70, 60], [95, 85, 75, 65], [99, 89, 79, 69]])
    lines, counts, signs = _grid(n)
    prefer = lines[:4] + [line[:-1] for line in lines[4:]]
    why = linked_suppression(counts, lines, min_n=30, prefer=prefer, signs=signs)
    per_unit = [sum(1 for c in range(4) if why[r * 4 + c]) for r in range(1, 4)]
    assert max(per_unit) <= 2 and all(k != 1 for k in per_unit)
    assert _determined(why, lines, counts, signs) == []


def test_a_hidden_cell_of_a_grid_is_protected_in_its_row_and_its_column() -> None:
    # DE's Edge Gateways (20 tickets) is small; the study-wide product table is published too
    n = np.array([[289, 125, 20], [300, 140, 60], [250, 90, 75]])
    lines, counts, signs = _grid(n)
    prefer = lines[:3] + [line[:-1] for line in lines[3:]]  # a unit's cells before the margin
    why = linked_suppression(counts, lines, min_n=30, prefer=prefer, signs=signs)
    hidden = {i for i, w in enumerate(why) if w}
    assert 2 in hidden and why[2] == SMALL
    assert 1 in hidden  # its row: DE's smallest other product line
    # its column: one more Edge cell (the study-wide one, which costs no other unit a line)
    assert len(hidden & {2, 5, 8, 11}) >= 2
    assert all(sum(1 for i in line if why[i]) != 1 for line in lines)
    assert _determined(why, lines, counts, signs) == []
    assert not why[[0, 3, 4, 6, 7]].any()  # the other units keep their tables whole


@pytest.mark.parametrize("seed", range(60))
def test_no_hidden_cell_of_a_random_grid_can_be_solved(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows, cols = rng.integers(2, 7), rng.integers(2, 6)
    # no empty cell: a unit with one product would have a line of one term, its total (which
    # the reports publish as the sum of its months) telling that one cell
    n = rng.integers(1, 120, size=(rows, cols))
    lines, counts, signs = _grid(n)
    prefer = lines[:rows] + [line[:-1] for line in lines[rows:]]
    why = linked_suppression(counts, lines, min_n=30, prefer=prefer, signs=signs)
    assert all(sum(1 for i in line if why[i] and counts[i]) != 1 for line in lines)
    assert _determined(why, lines, counts, signs) == []


def test_the_audit_hides_more_where_bounds_give_a_cell_away() -> None:
    """Namibia's two small months (3 and 5 tickets) pooled with nothing else: one line says
    their top-box answers add up to 8 of 8, which tells each month's share (100%) though no
    rank argument solves either. The audit hides a third cell of their line."""
    n = [3, 5, 40, 60]  # one line: the four months add up to a published total
    hits = np.array([3.0, 5.0, 20.0, 30.0])
    ranges = np.stack([np.zeros(4), np.array(n, dtype=float)], axis=1)[:, None, :]
    plain = linked_suppression(n, [[0, 1, 2, 3]], min_n=30)
    assert plain.tolist() == [SMALL, SMALL, "", ""]  # the rank rule alone is content
    audited = linked_suppression(n, [[0, 1, 2, 3]], min_n=30, values=hits[:, None], ranges=ranges)
    assert audited.tolist() == [SMALL, SMALL, COMPLEMENTARY, ""]
    # with a third hidden month of 40 the two small ones can be anything from 0 to all
    mixed = np.array([1.0, 2.0, 20.0, 30.0])  # not at a bound: nothing more to hide
    assert linked_suppression(
        n, [[0, 1, 2, 3]], min_n=30, values=mixed[:, None], ranges=ranges
    ).tolist() == [SMALL, SMALL, "", ""]


def _interval_everywhere(
    why: np.ndarray,
    lines: list[list[int]],
    signs: list[list[int]],
    values: np.ndarray,
    ranges: np.ndarray,
    width: float,
) -> list[int]:
    """The audit's rule by brute force: for every small hidden cell and measure, the least and
    the most total the whole system allows (two linear programs over all hidden cells), in
    measure then cell order."""
    from scipy.optimize import linprog

    hidden = sorted({i for line in lines for i in line if why[i]})
    rows = [
        (line, sign) for line, sign in zip(lines, signs, strict=True) if any(why[i] for i in line)
    ]
    a = np.zeros((len(rows), len(hidden)))
    for r, (line, sign) in enumerate(rows):
        for c, v in zip(line, sign, strict=True):
            if c in hidden:
                a[r, hidden.index(c)] = v
    out: list[int] = []
    for m in range(values.shape[1]):
        truth, low, high = values[hidden, m], ranges[hidden, m, 0], ranges[hidden, m, 1]
        for k, cell in enumerate(hidden):
            if why[cell] != SMALL or cell in out or high[k] <= low[k]:
                continue
            ends = []
            for sense in (1.0, -1.0):
                c = np.zeros(len(hidden))
                c[k] = sense
                fit = linprog(
                    c,
                    A_eq=a,
                    b_eq=a @ truth,
                    bounds=list(zip(low, high, strict=True)),
                    method="highs",
                )
                ends.append(sense * fit.fun if fit.status == 0 else np.nan)
            if np.isfinite(ends).all() and ends[1] - ends[0] < width * (high[k] - low[k]):
                out.append(cell)
    return out


@pytest.mark.parametrize("seed", range(40))
def test_the_audit_decides_as_solving_every_program_on_the_whole_system(seed: int) -> None:
    # The audit solves one group of linked hidden cells at a time and skips a cell that a move
    # along the lines frees from the true totals or from a central point; the decisions must
    # be those of solving both programs of every small cell over every hidden cell. Many small
    # cells at a bound of their range (all satisfied, none) make the shortcut work hardest.
    from csatlib.stats.disclosure import _Audit

    rng = np.random.default_rng(seed)
    n = rng.integers(1, 60, size=(rng.integers(2, 6), rng.integers(2, 6)))
    lines, counts, signs = _grid(n)
    counts_a = np.asarray(counts, dtype=float)
    share = rng.choice([0.0, 1.0, rng.uniform()], size=len(counts))
    hits = np.round(share * counts_a)
    # the margins add up their units' totals (each column's line sums to zero)
    rows, cols = n.shape
    hits[rows * cols :] = hits[: rows * cols].reshape(rows, cols).sum(axis=0)
    values = hits[:, None]
    ranges = np.stack([np.zeros(len(counts)), counts_a], axis=1)[:, None, :]
    signed = [dict(zip(line, sign, strict=True)) for line, sign in zip(lines, signs, strict=True)]
    why = np.where((counts_a > 0) & (counts_a < 30), SMALL, "").astype(object)
    for extra in rng.permutation(len(counts))[:3]:  # some complements, as the rounds leave
        why[extra] = why[extra] or COMPLEMENTARY
    audit = _Audit(values, ranges, 0.2)
    expected = _interval_everywhere(why, lines, signs, values, ranges, 0.2)
    assert audit.disclosed(why, signed) == expected
    assert audit.disclosed(why, signed) == expected  # the second time from what it kept


def test_bad_input_says_what_was_expected() -> None:
    with pytest.raises(DataError, match="counts >= 0"):
        linked_suppression([3, -1], [[0, 1]], min_n=5)
    with pytest.raises(DataError, match="names cell 4, but there are 2"):
        linked_suppression([3, 1], [[0, 4]], min_n=5)
    with pytest.raises(DataError, match="one preference per line"):
        linked_suppression([3, 1], [[0, 1]], min_n=5, prefer=[])
