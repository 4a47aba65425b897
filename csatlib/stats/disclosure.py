"""Secondary cell suppression over linked tables: no small cell can be worked out from the cells
shown beside it, in one table or across the tables a build publishes.

A cell is suppressed when fewer than ``min_n`` answers make it (primary suppression). Tables that
split the same answers in different ways are linked by additive relations: a unit's tickets by
product and by month add up to the same sum of ratings; every unit's cell of one product adds up
to that product's cell in the study-wide table. In each such relation the shown cells give one
equation in the hidden ones, so a relation with exactly one hidden cell (with answers) gives that
cell away, and several relations together can too. :func:`linked_suppression` hides one more
cell in every relation with a lone hidden cell, the one with the fewest answers, then checks
the relations together and hides more where they still solve a hidden cell (each round hides a
new cell, so it ends). A hidden cell then shows only as part of a pooled figure.

This is the rule of at least two suppressed cells per line of a table (Hundepool et al. 2012,
section 4.2.2) applied to every line of every linked table at once, a greedy heuristic rather
than the optimal (fewest hidden cells) solution a linear program would give.

References
----------
Hundepool, A., Domingo-Ferrer, J., Franconi, L., Giessing, S., Nordholt, E. S., Spicer, K., &
de Wolf, P.-P. (2012). Statistical Disclosure Control. Wiley, ch. 4.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from csatlib.errors import DataError

__all__ = ["AUDIT_ROUNDS", "AUDIT_WIDTH", "COMPLEMENTARY", "SMALL", "linked_suppression"]

#: Why a cell is hidden: fewer answers than the minimum.
SMALL = "small"
#: Why a cell is hidden: it would give a small cell away.
COMPLEMENTARY = "complementary"
#: The audit's protection (:func:`linked_suppression`): a hidden cell's total must be free to
#: take at least this share of its range (a top-box share 20 percentage points, a mean on a
#: 1-5 scale 0.8 points).
AUDIT_WIDTH = 0.2
#: Rounds of the audit, each hiding one more cell, before what is left is left.
AUDIT_ROUNDS = 40


def linked_suppression(
    n: Sequence[int] | np.ndarray,
    lines: Sequence[Sequence[int]],
    *,
    min_n: int,
    prefer: Sequence[Sequence[int]] | None = None,
    signs: Sequence[Sequence[int]] | None = None,
    values: np.ndarray | None = None,
    ranges: np.ndarray | None = None,
    width: float = AUDIT_WIDTH,
) -> np.ndarray:
    """Why each cell is hidden: ``""`` (shown), :data:`SMALL` or :data:`COMPLEMENTARY`.

    Parameters
    ----------
    n : array-like of int
        Answers in each cell (0: an empty cell, which is no term of any relation).
    lines : sequence of sequences of int
        The additive relations between the cells, each the positions (in ``n``) of its terms:
        the sum of some of them equals the sum of the others.
    min_n : int, keyword-only
        Cells with ``0 < n < min_n`` are hidden.
    prefer : sequence of sequences of int, optional, keyword-only
        Per line, the terms to hide first, other things equal (a unit's own cells before a
        study-wide cell; default every term).
    signs : sequence of sequences of int, optional, keyword-only
        Per line, +1 or -1 for each of its terms: the side of the equation it is on (default
        all +1: the line's terms add up to a published total).
    values, ranges : numpy.ndarray, optional, keyword-only
        What the tables show of each cell besides its count, for the audit: ``values`` (cells
        x measures) each cell's totals (the ratings' sum, the top-box answers), ``ranges``
        (cells x measures x 2) the least and most each total can be (``n`` times the scale's
        ends; 0 and ``n``). Without them, no audit.
    width : float, keyword-only
        The audit's protection: a hidden cell whose total the shown cells confine to less than
        this share of its range (default :data:`AUDIT_WIDTH`) is disclosed.

    Returns
    -------
    numpy.ndarray of object
        One reason per cell.

    Notes
    -----
    A relation :math:`\\sum_{i \\in A} s_i = \\sum_{j \\in B} s_j` over the cells' sums with
    exactly one hidden term :math:`h` (among terms with answers) gives
    :math:`s_h` from the shown ones; with two or more hidden terms it gives only their total.
    Each round hides one more term of every line that has one hidden term, until no line has
    exactly one: the term that costs its other lines least (none for a line it gives a second
    hidden cell, one for a line with none, which then needs another, ``h`` for a line with
    ``h >= 2`` hidden already: the complements spread over units instead of emptying one
    unit's table), then a preferred term, then the one with the fewest answers (the first of
    equals). Lines can still combine to give a
    hidden cell away (two lines that share all their hidden cells but one); so the hidden
    cells are then checked together: a cell is solvable when its unit vector lies in the row
    space of the lines restricted to the hidden cells, and while one is, the shown term of its
    lines after whose hiding the fewest cells are solvable is hidden too (each tried; the
    cheapest of the best) and the rounds start again. It ends when nothing is solvable, or
    when three cells hidden in a row left as many solvable (then what is solvable stays so:
    a line of one term, which no hiding protects).

    Then, with ``values``, the audit: the shown cells bound each hidden cell's total, not only
    fix it (a pool of hidden cells known to be all top-box tells each member's share, whatever
    the rank). For each hidden cell and measure, linear programs find the least and the most
    its total can be given every line and every hidden cell's range; where a small cell's
    interval is narrower than ``width`` of its range, a shown term of its lines is hidden too (the
    cheapest) and everything is checked again (at most :data:`AUDIT_ROUNDS` times). The
    programs are solved per group of linked hidden cells, and a cell that a move along the
    lines (from the true totals, or from a point deep inside every range) already shows free
    needs none: the same decisions as solving every program, tested. The programs are
    relaxations: an attacker who also uses that counts are whole numbers can
    narrow an interval a little further.

    Checked against hand-worked tables in tests/stats/test_disclosure.py, and by recomputing the
    attack: every hidden cell's sum is left undetermined by the shown cells of every line.
    """
    counts = np.asarray(n, dtype=np.int64)
    if counts.ndim != 1 or (counts < 0).any():
        raise DataError(f"linked_suppression: expected counts >= 0 in one dimension, found {n!r}")
    if prefer is not None and len(prefer) != len(lines):
        raise DataError(
            f"linked_suppression: expected one preference per line ({len(lines)}), "
            f"found {len(prefer)}"
        )
    for line in lines:
        bad = [i for i in line if not 0 <= int(i) < len(counts)]
        if bad:
            raise DataError(
                f"linked_suppression: a line names cell {bad[0]}, but there are {len(counts)}"
            )
    if signs is not None and [len(x) for x in signs] != [len(x) for x in lines]:
        raise DataError("linked_suppression: expected one sign per term of every line")
    why = np.where((counts > 0) & (counts < min_n), SMALL, "").astype(object)
    signed = [
        {int(i): (int(signs[k][j]) if signs is not None else 1) for j, i in enumerate(line)}
        for k, line in enumerate(lines)
    ]
    signed = [{i: v for i, v in line.items() if counts[i] > 0} for line in signed]
    first = [[int(i) for i in p if counts[int(i)] > 0] for p in prefer] if prefer else None
    state = _State(counts, why, signed, first)
    audit = _Audit(values, ranges, width) if values is not None and ranges is not None else None
    for _ in range(AUDIT_ROUNDS + 1):
        while True:
            state.lone_cells()
            solved = _solvable(why, signed)
            if not solved or not state.hide_beside(solved):
                break  # nothing solvable, or nothing left to hide beside what is
        disclosed = audit.disclosed(why, signed) if audit is not None else []
        if not disclosed or not state.hide_near(disclosed[0]):
            break
    return why


#: Cells hidden in a row, each leaving as many cells solvable, before giving up on them.
_STALLED_TRIES = 3


class _State:
    """The cells, their reasons so far and the lines, with each cell's lines."""

    def __init__(
        self,
        counts: np.ndarray,
        why: np.ndarray,
        signed: list[dict[int, int]],
        first: list[list[int]] | None,
    ) -> None:
        self.counts, self.why, self.signed = counts, why, signed
        self.terms = [list(line) for line in signed]
        self.first = [set(p) for p in first] if first is not None else [set(t) for t in self.terms]
        self.stalled = 0  # cells hidden in a row that left as many cells solvable
        self.lines_of: dict[int, list[int]] = {}
        for k, line in enumerate(self.terms):
            for i in line:
                self.lines_of.setdefault(i, []).append(k)

    def hidden_in(self, k: int) -> int:
        return sum(1 for i in self.terms[k] if self.why[i])

    def cost(self, cell: int, k: int) -> tuple[int, int, int]:
        """What hiding ``cell`` (for line ``k``) costs, over its other lines: 0 for a line it
        gives a second hidden cell (it relieves that line's lone one), 1 for a line with none
        (which then needs one more), ``h`` for a line with ``h >= 2`` already (the more a
        table has lost, the less it should lose); then whether it is one of the line's
        preferred terms, then its answers."""
        spent = 0
        for other in self.lines_of.get(cell, []):
            if other != k and len(self.terms[other]) > 1:
                hidden = self.hidden_in(other)
                spent += 1 if hidden == 0 else 0 if hidden == 1 else hidden
        return spent, 0 if cell in self.first[k] else 1, int(self.counts[cell])

    def pick(self, k: int) -> int | None:
        """Line ``k``'s shown term to hide, the cheapest (:meth:`cost`; the first of equals);
        None when every term is hidden."""
        shown = [i for i in self.terms[k] if not self.why[i]]
        return min(shown, key=lambda i: self.cost(i, k)) if shown else None

    def hide(self, k: int) -> bool:
        pick = self.pick(k)
        if pick is None:
            return False
        self.why[pick] = COMPLEMENTARY
        return True

    def lone_cells(self) -> None:
        """Hide a cell beside every line's lone hidden cell, round after round, until none is
        left."""
        changed = True
        while changed:
            changed = False
            for k in range(len(self.terms)):
                if self.hidden_in(k) == 1 and self.hide(k):
                    changed = True

    def hide_beside(self, solved: list[int]) -> bool:
        """Hide the cell that leaves the fewest cells solvable: the shown terms of the lines of
        the solvable cells are tried in turn, then those of the lines reached from them
        through hidden cells, ring by ring, until one leaves fewer solvable; the cheapest
        (:meth:`cost`) of the best. When none does, the best tried is hidden all the same, a
        few times in a row at most (a pair may do what no single cell does). False when
        nothing is left to try, or after those tries."""
        reached: set[int] = set()
        frontier, fallback = set(solved), None
        while frontier:
            lines = sorted({k for i in frontier for k in self.lines_of.get(i, [])} - reached)
            tried = {i: k for k in lines for i in self.terms[k] if not self.why[i]}
            best = self._best_of(tried)
            if best is not None and best[0][0] < len(solved):
                self.stalled = 0
                self.why[best[1]] = COMPLEMENTARY
                return True
            if fallback is None or (best is not None and best[0] < fallback[0]):
                fallback = best if best is not None else fallback
            reached.update(lines)
            frontier = {i for k in lines for i in self.terms[k] if self.why[i]} - frontier
        self.stalled += 1
        if fallback is None or self.stalled > _STALLED_TRIES:
            return False
        self.why[fallback[1]] = COMPLEMENTARY
        return True

    def hide_near(self, cell: int) -> bool:
        """Hide the cheapest shown term (:meth:`cost`) of ``cell``'s lines, else of the lines
        reached from them through hidden cells, ring by ring; False when none is left."""
        reached: set[int] = set()
        frontier = {cell}
        while frontier:
            lines = sorted({k for i in frontier for k in self.lines_of.get(i, [])} - reached)
            tried = [(self.cost(i, k), i) for k in lines for i in self.terms[k] if not self.why[i]]
            if tried:
                self.why[min(tried)[1]] = COMPLEMENTARY
                return True
            reached.update(lines)
            frontier = {i for k in lines for i in self.terms[k] if self.why[i]} - frontier
        return False

    def _best_of(self, tried: dict[int, int]) -> tuple[tuple[int, int, int, int], int] | None:
        """The term of ``tried`` (term -> one of its lines) after whose hiding the fewest cells
        are solvable, the cheapest of those: ((solvable, cost...), term); None if empty."""
        best: tuple[tuple[int, int, int, int], int] | None = None
        for cell, k in tried.items():
            self.why[cell] = COMPLEMENTARY
            left = len(_solvable(self.why, self.signed))
            self.why[cell] = ""
            key = (left, *self.cost(cell, k))
            if best is None or key < best[0]:
                best = (key, cell)
        return best


def _hidden_system(why: np.ndarray, signed: list[dict[int, int]]) -> tuple[list[int], np.ndarray]:
    """The hidden cells (in order) and the lines restricted to them, one row per line with a
    hidden term (each term its sign)."""
    hidden = sorted({i for line in signed for i in line if why[i]})
    pos = {c: k for k, c in enumerate(hidden)}
    rows = [line for line in signed if any(why[i] for i in line)]
    a = np.zeros((len(rows), len(hidden)))
    for r, line in enumerate(rows):
        for c, sign in line.items():
            if c in pos:
                a[r, pos[c]] = sign
    return hidden, a


def _solvable(why: np.ndarray, signed: list[dict[int, int]]) -> list[int]:
    """Hidden cells whose sum the lines determine from the shown cells: those whose unit vector
    lies in the row space of the lines restricted to the hidden terms (an orthonormal basis of
    it from the SVD: a unit vector lies in it when its projection keeps length 1)."""
    hidden, a = _hidden_system(why, signed)
    if not hidden or not len(a):
        return []
    _, sv, vt = np.linalg.svd(a, full_matrices=False)
    basis = vt[sv > 1e-9 * max(sv.max(initial=0.0), 1.0)]
    length = (basis**2).sum(axis=0)
    return [c for k, c in enumerate(hidden) if length[k] > 1.0 - 1e-9]


class _Audit:
    """The interval each hidden cell's totals can take given the shown cells (linear programs
    over the hidden cells: every line's hidden terms add up to what the shown ones leave).

    The lines link only some hidden cells: the programs fall apart into one per connected group
    of hidden cells (lines sharing a hidden cell), each with the same optimum as the whole, and
    a group that a newly hidden cell leaves as it was is not solved again (remembered by its
    cells, lines and which of them are small): the audit's later rounds solve only the groups
    that changed."""

    def __init__(self, values: np.ndarray, ranges: np.ndarray, width: float) -> None:
        self.values = np.asarray(values, dtype=np.float64)
        self.ranges = np.asarray(ranges, dtype=np.float64)
        self.width = width
        self.solved: dict[tuple[object, ...], list[int]] = {}

    def disclosed(self, why: np.ndarray, signed: list[dict[int, int]]) -> list[int]:
        """Small cells (primary suppressions) with a total confined to less than ``width`` of
        its range, by measure and then in the order of the cells. A complement is not audited:
        it has answers enough to be shown, and is hidden only to protect a small one (paired
        with a cell of 3 answers, a cell of 60 is all but told, which is no disclosure)."""
        hidden, a = _hidden_system(why, signed)
        if not hidden or not len(a):
            return []
        narrow: set[tuple[int, int]] = set()
        for part in _groups(a):
            rows = np.flatnonzero(np.abs(a[:, part]).sum(axis=1))
            sub = a[np.ix_(rows, part)]
            cells = [hidden[k] for k in part]
            small = tuple(bool(why[c] == SMALL) for c in cells)
            for m in range(self.values.shape[1]):
                key = (tuple(cells), m, sub.tobytes(), small)
                if key not in self.solved:
                    self.solved[key] = self._narrow(cells, sub, m, small)
                narrow.update((m, c) for c in self.solved[key])
        out: list[int] = []
        for m in range(self.values.shape[1]):
            out += [c for c in hidden if (m, c) in narrow and c not in out]
        return out

    def _narrow(
        self, cells: list[int], a: np.ndarray, m: int, small: tuple[bool, ...]
    ) -> list[int]:
        """The small ``cells`` of one group whose total of measure ``m`` the group's lines
        ``a`` confine to less than ``width`` of its range.

        A cell is first moved along the lines' null space from the true totals (the direction
        that moves it most, as far as every cell's range allows): when that alone spans the
        width, the cell is free (the programs' interval holds the move's), and no program is
        solved; otherwise two linear programs give its least and most total."""
        from scipy.optimize import linprog

        truth = self.values[cells, m]
        low, high = self.ranges[cells, m, 0], self.ranges[cells, m, 1]
        bounds = list(zip(low, high, strict=True))
        free = _null_space(a)
        starts = [truth, _centre(a, truth, low, high)]
        out = []
        for k, cell in enumerate(cells):
            if not small[k] or high[k] <= low[k]:
                continue  # a complement is no secret: only a small cell is audited
            need = self.width * (high[k] - low[k])
            move = free @ free[k]
            if any(_ray_span(move, k, x, low, high) >= need for x in starts if x is not None):
                continue
            c = np.zeros(len(cells))
            ends = []
            for sense in (1.0, -1.0):
                c[k] = sense
                fit = linprog(c, A_eq=a, b_eq=a @ truth, bounds=bounds, method="highs")
                ends.append(sense * fit.fun if fit.status == 0 else np.nan)
            if np.isfinite(ends).all() and ends[1] - ends[0] < need:
                out.append(cell)
        return out


def _null_space(a: np.ndarray) -> np.ndarray:
    """An orthonormal basis (columns) of the moves of the cells that keep every line's sum."""
    _, sv, vt = np.linalg.svd(a, full_matrices=True)
    rank = int((sv > 1e-9 * max(sv.max(initial=0.0), 1.0)).sum())
    return vt[rank:].T


def _centre(
    a: np.ndarray, truth: np.ndarray, low: np.ndarray, high: np.ndarray
) -> np.ndarray | None:
    """A point that keeps every line's sum and stays as far inside every cell's range as it
    can (the largest share ``s`` of each range left on both sides, one linear program), or
    None. The true totals often sit on a range's end (every ticket of a month satisfied),
    where a move along the lines stops at once; from this point it need not."""
    from scipy.optimize import linprog

    span = high - low
    n = len(truth)
    # variables: the cells' totals, then s; maximize s
    c = np.zeros(n + 1)
    c[-1] = -1.0
    eq = np.hstack([a, np.zeros((len(a), 1))])
    upper = np.vstack(
        [
            np.hstack([-np.eye(n), span[:, None]]),  # low + s * span <= x
            np.hstack([np.eye(n), span[:, None]]),  # x + s * span <= high
        ]
    )
    limits = np.concatenate([-low, high])
    fit = linprog(
        c,
        A_ub=upper,
        b_ub=limits,
        A_eq=eq,
        b_eq=a @ truth,
        bounds=[*zip(low, high, strict=True), (0.0, 0.5)],
        method="highs",
    )
    if fit.status != 0:
        return None
    return np.clip(fit.x[:n], low, high)


def _ray_span(d: np.ndarray, k: int, start: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    """How far cell ``k`` moves along ``start + t * d`` while every cell stays in its range
    (the feasible ``t`` form an interval around 0, as ``start`` is in range)."""
    if abs(d[k]) < 1e-12:
        return 0.0
    moving = np.abs(d) > 1e-12
    up = np.where(d[moving] > 0, high[moving] - start[moving], start[moving] - low[moving])
    down = np.where(d[moving] > 0, start[moving] - low[moving], high[moving] - start[moving])
    scale = np.abs(d[moving])
    return float((np.min(up / scale) + np.min(down / scale)) * abs(d[k]))


def _groups(a: np.ndarray) -> list[np.ndarray]:
    """The columns of ``a`` (hidden cells) in groups linked by its rows (lines), each group's
    columns in order, the groups in the order of their first column."""
    from scipy.sparse.csgraph import connected_components

    linked = (np.abs(a).T @ np.abs(a)) > 0
    _, label = connected_components(linked, directed=False)
    order = list(dict.fromkeys(label))
    return [np.flatnonzero(label == g) for g in order]
