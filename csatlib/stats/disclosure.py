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

__all__ = ["COMPLEMENTARY", "SMALL", "linked_suppression"]

#: Why a cell is hidden: fewer answers than the minimum.
SMALL = "small"
#: Why a cell is hidden: it would give a small cell away.
COMPLEMENTARY = "complementary"


def linked_suppression(
    n: Sequence[int] | np.ndarray,
    lines: Sequence[Sequence[int]],
    *,
    min_n: int,
    prefer: Sequence[Sequence[int]] | None = None,
) -> np.ndarray:
    """Why each cell is hidden: ``""`` (shown), :data:`SMALL` or :data:`COMPLEMENTARY`.

    Parameters
    ----------
    n : array-like of int
        Answers in each cell (0: an empty cell, which is no term of any relation).
    lines : sequence of sequences of int
        The additive relations between the cells, each the positions (in ``n``) of its terms:
        the sum of some of them equals the sum of the others (which side a term is on does not
        matter to the rule).
    min_n : int, keyword-only
        Cells with ``0 < n < min_n`` are hidden.
    prefer : sequence of sequences of int, optional, keyword-only
        Per line, the terms to hide first, other things equal (a unit's own cells before a
        study-wide cell; default every term).

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

    What it does not protect against: bounds. A pool of hidden cells whose total is known to
    be all top-box (or none) tells each member's share exactly; an audit by linear
    programming over each hidden cell's feasible range would.

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
    why = np.where((counts > 0) & (counts < min_n), SMALL, "").astype(object)
    terms = [[int(i) for i in line if counts[int(i)] > 0] for line in lines]
    first = [[int(i) for i in p if counts[int(i)] > 0] for p in prefer] if prefer else terms
    state = _State(counts, why, terms, [set(p) for p in first])
    while True:
        state.lone_cells()
        solved = _solvable(why, terms)
        if not solved or not state.hide_beside(solved):
            return why  # nothing solvable, or nothing left to hide beside what is


#: Cells hidden in a row, each leaving as many cells solvable, before giving up on them.
_STALLED_TRIES = 3


class _State:
    """The cells, their reasons so far and the lines, with each cell's lines."""

    def __init__(
        self, counts: np.ndarray, why: np.ndarray, terms: list[list[int]], first: list[set[int]]
    ) -> None:
        self.counts, self.why, self.terms, self.first = counts, why, terms, first
        self.stalled = 0  # cells hidden in a row that left as many cells solvable
        self.lines_of: dict[int, list[int]] = {}
        for k, line in enumerate(terms):
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

    def _best_of(self, tried: dict[int, int]) -> tuple[tuple[int, int, int, int], int] | None:
        """The term of ``tried`` (term -> one of its lines) after whose hiding the fewest cells
        are solvable, the cheapest of those: ((solvable, cost...), term); None if empty."""
        best: tuple[tuple[int, int, int, int], int] | None = None
        for cell, k in tried.items():
            self.why[cell] = COMPLEMENTARY
            left = len(_solvable(self.why, self.terms))
            self.why[cell] = ""
            key = (left, *self.cost(cell, k))
            if best is None or key < best[0]:
                best = (key, cell)
        return best


def _solvable(why: np.ndarray, terms: list[list[int]]) -> list[int]:
    """Hidden cells whose sum the lines determine from the shown cells: those whose unit vector
    lies in the row space of the lines restricted to the hidden terms (an orthonormal basis of
    it from the SVD: a unit vector lies in it when its projection keeps length 1)."""
    hidden = sorted({i for line in terms for i in line if why[i]})
    if not hidden:
        return []
    pos = {c: k for k, c in enumerate(hidden)}
    a = np.zeros((len(terms), len(hidden)))
    for r, line in enumerate(terms):
        for c in line:
            if c in pos:
                a[r, pos[c]] = 1.0
    _, sv, vt = np.linalg.svd(a, full_matrices=False)
    basis = vt[sv > 1e-9 * max(sv.max(initial=0.0), 1.0)]
    length = (basis**2).sum(axis=0)
    return [c for c, k in pos.items() if length[k] > 1.0 - 1e-9]
