"""Write ``reports/index.html``, the page listing every report, from ``templates/index``.

What each cell says is decided here, from the outcomes and ``reports/metrics/<CC>.json``, as
plain text; the Jinja2 template ``index.html.j2`` lays it out, escaping every value (autoescape),
so neither a country's metrics nor an error message can put markup into the page.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from csatlib import config
from csatlib.ingest.countries import country_name
from csatlib.report.stamps import SUMMARY_NAME, published_paths, timestamp
from csatlib.safety import write_text_atomic

if TYPE_CHECKING:
    import jinja2

    from csatlib.report.build import CountryOutcome

__all__ = ["write_index"]

_TEMPLATES = Path(__file__).resolve().parent / "templates" / "index"


@dataclass(frozen=True)
class _Error:
    """An error as the page shows it: one line a reader can act on, the rest behind "details".

    ``kind``: ``line`` (a one-line message), ``lines`` (several: the first is shown) or
    ``traceback`` (a bug in the build: its last line is shown).
    """

    kind: Literal["line", "lines", "traceback"]
    shown: str
    text: str


@dataclass(frozen=True)
class _Nps:
    """The n and NPS cells; ``shown`` is empty when the metrics hold no NPS at all.

    ``min_n`` is the small-cell minimum a suppressed NPS fell below (empty when unknown).
    """

    n: str
    shown: Literal["", "suppressed", "not available", "score"]
    score: str = ""
    ci_low: str = ""
    ci_high: str = ""
    min_n: str = ""


@dataclass(frozen=True)
class _Change:
    """Change vs the previous wave, in words (``text``) with its test behind ``test``.

    ``arrow`` is ``up``/``down`` when significant; ``test`` (for a title attribute) holds the
    p- or q-value and the verdict.
    """

    shown: Literal["", "not tested", "no previous wave", "difference"]
    previous: str = ""
    text: str = ""
    test: str = ""
    arrow: Literal["", "up", "down"] = ""


@dataclass(frozen=True)
class _Row:
    """One country's row; ``error`` is set when its last build failed (no figures shown).

    ``country`` is the code (file names), ``name`` what a reader sees ("Germany (DE)").
    """

    country: str
    name: str
    published: bool
    built: str
    status: str
    error: _Error | None = None
    wave: str = ""
    nps: _Nps = _Nps("", "")
    change: _Change = _Change("")
    target: str = ""  # the NPS target's status in words ("on track, target +25 by 2026-Q4")


@dataclass(frozen=True)
class _Failure:
    """One failed build for the box at the top of the page: what failed and its error."""

    what: str
    error: _Error


def write_index(
    reports_dir: Path,
    outcomes: Sequence[CountryOutcome],
    *,
    seconds: float,
    summary: CountryOutcome | None = None,
    lists: CountryOutcome | None = None,
    groups: Mapping[str, Sequence[tuple[CountryOutcome, str]]] | None = None,
    processed_dir: Path | None = None,
) -> Path:
    """Write ``reports/index.html``: the global summary, every country, headline figures, failures.

    One build line ("Built <time> in <s> s; 13 reports rebuilt, 0 failed"), then a red box
    listing every failed build with its one-line error.  Per country ("Germany (DE)"): wave,
    n, NPS with its 95% CI ("not enough respondents (n = 12, fewer than 30)" below the
    small-cell minimum, never a number), the change vs the previous wave in words ("down 7.4
    points since 2026-Q2, not a significant change"; the p- or q-value in a title attribute),
    links to both versions, when the published report was built, and the status with any error
    (escaped).  A failed country shows no figures, only a link to its previous report if one is
    published.  Figures come from ``reports/metrics/<CC>.json``; keys it does not know are
    ignored.  Reports by other dimensions (``groups``: dimension -> (outcome, value), e.g.
    business units) follow in one table per dimension, with the same columns; a dimension
    without words of its own is named by its codebook label in ``processed_dir``.  Plain HTML and
    CSS, no script.
    """
    reports_dir = Path(reports_dir)
    summary_page = published_paths(reports_dir, SUMMARY_NAME)["html"]
    summary_failed = summary is not None and summary.status == "failed"
    lists_failed = lists is not None and lists.status == "failed"
    groups = groups or {}
    sliced = [o for rows in groups.values() for o, _ in rows]
    reports = [*outcomes, *sliced, *([summary] if summary is not None else [])]
    template = _environment().get_template("index.html.j2")
    page = template.render(
        built=timestamp(),
        seconds=f"{seconds:.1f}",
        rebuilt=sum(o.status == "built" for o in reports),
        alpha=f"{_alpha():.0%}",
        summary_name=SUMMARY_NAME,
        summary_error=_error(summary.error) if summary_failed else None,
        summary_built=_built_at(summary_page) if summary_page.exists() else None,
        rows=[_row(reports_dir, outcome) for outcome in outcomes],
        groups=[
            (
                _group_title(dimension, processed_dir),
                [_row(reports_dir, o, value) for o, value in rows],
            )
            for dimension, rows in groups.items()
        ],
        failures=_failures([*outcomes, *sliced], summary, lists),
        lists_error=_error(lists.error) if lists_failed else None,
        lists_published=(reports_dir / "lists").is_dir(),
    )
    index = reports_dir / "index.html"
    write_text_atomic(index, page)
    return index


def _environment() -> jinja2.Environment:
    return page_environment(str(_TEMPLATES))


@functools.cache
def page_environment(folder: str) -> jinja2.Environment:
    """The Jinja environment of the build's own pages (index, steering page) in ``folder``:
    autoescaped, and an undefined name is an error, not an empty string."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def _group_title(dimension: str, processed_dir: Path | None = None) -> tuple[str, str]:
    """("By business unit", "Business unit"): a group's heading and its first column (another
    column named by its codebook label in the study of ``processed_dir``)."""
    from csatlib.report.sections import dimension_label, unit_words

    def word(name: str) -> str:
        label = dimension_label(processed_dir, name) if processed_dir is not None else None
        return unit_words(name, label)[0]

    inner, _, outer = dimension.partition("_in_")
    one = word(inner)
    if outer:
        return f"By {one} within each {word(outer)}", one[:1].upper() + one[1:]
    return f"By {one}", one[:1].upper() + one[1:]


def _country_label(code: str) -> str:
    """ "Germany (DE)"; the code alone when it is no ISO country (a study's own code)."""
    try:
        return f"{country_name(code)} ({code})"
    except KeyError:
        return code


# The status of a row in words; how long a build took is the build line's business, not a row's.
_STATUS = {"built": "rebuilt in this run", "not selected": "not rebuilt in this run"}


def _failures(
    outcomes: Sequence[CountryOutcome],
    summary: CountryOutcome | None,
    lists: CountryOutcome | None,
) -> list[_Failure]:
    """Every failed build, countries first, each with its one-line error."""
    named = [(_country_label(o.country), o) for o in outcomes]
    named += [("Global summary", o) for o in (summary,) if o is not None]
    named += [("Closing-the-loop lists", o) for o in (lists,) if o is not None]
    return [_Failure(what, _error(o.error)) for what, o in named if o.status == "failed"]


def _row(reports_dir: Path, outcome: CountryOutcome, label: str | None = None) -> _Row:
    html = published_paths(reports_dir, outcome.country)["html"]
    published = html.exists()
    built = _built_at(html) if published else ""
    name = label if label is not None else _country_label(outcome.country)
    if outcome.status == "failed":
        return _Row(outcome.country, name, published, built, "failed", _error(outcome.error))
    status = _STATUS.get(outcome.status, outcome.status)
    if not published:  # a country never built, or whose build published nothing
        detail = "" if outcome.status == "not selected" else status
        return _Row(outcome.country, name, published, built, detail)
    metrics = _load_metrics(reports_dir, outcome.country)
    return _Row(
        outcome.country,
        name,
        published,
        built,
        status,
        wave=str(metrics.get("wave", "")),
        nps=_nps(metrics),
        change=_change(metrics),
        target=_target(metrics),
    )


def _target(metrics: Mapping[str, Any]) -> str:
    """The NPS target's status from the report's scorecard ("at risk (target +20.0 by
    2026-Q4)"); empty when the unit has none."""
    target = (metrics.get("targets") or {}).get("nps")
    if not isinstance(target, Mapping) or _number(target.get("target")) is None:
        return ""
    return (
        f"{target.get('status', '')} (target {_number(target['target']):+.1f} by "
        f"{target.get('due_wave', '')})"
    )


def _load_metrics(reports_dir: Path, name: str) -> dict[str, Any]:
    path = published_paths(reports_dir, name)["metrics"]
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return metrics if isinstance(metrics, dict) else {}


def _number(value: Any) -> float | None:
    """A finite float, or None for anything else (missing, null, text, NaN, bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _count(value: Any) -> str:
    number = _number(value)
    return f"{int(number):,}" if number is not None else ""


def _nps(metrics: Mapping[str, Any]) -> _Nps:
    """n and NPS with its interval; a suppressed NPS never shows a number."""
    nps = metrics.get("nps")
    if not isinstance(nps, Mapping):
        return _Nps(_count(metrics.get("n")), "")
    n = _count(nps.get("n", metrics.get("n")))
    if nps.get("suppressed") is True:
        return _Nps(n, "suppressed", min_n=_count(metrics.get("min_n")))
    score = _number(nps.get("score"))
    if nps.get("suppressed") is not False or score is None:  # unknown: show no number
        return _Nps(n, "not available")
    low, high = _number(nps.get("ci_low")), _number(nps.get("ci_high"))
    if low is None or high is None:
        return _Nps(n, "score", f"{score:+.1f}")
    return _Nps(n, "score", f"{score:+.1f}", f"{low:+.1f}", f"{high:+.1f}")


def _alpha() -> float:
    """1 - DEFAULT_CONF, rounded: 1 - 0.95 is 0.050000000000000044, and p = 0.05 is not below."""
    return round(1 - config.DEFAULT_CONF, 10)


def _change(metrics: Mapping[str, Any]) -> _Change:
    """Change vs the previous wave; an arrow when significant at 1 - DEFAULT_CONF: its q-value
    under the report's multiplicity policy when the metrics carry one, else its p-value."""
    nps = metrics.get("nps")
    if isinstance(nps, Mapping) and nps.get("suppressed") is True:
        return _Change("")
    previous = metrics.get("previous_wave")
    previous_text = str(previous) if previous else ""
    change = metrics.get("nps_change")
    diff = _number(change.get("diff")) if isinstance(change, Mapping) else None
    if diff is None:
        if previous:
            return _Change("not tested", previous_text)
        return _Change("no previous wave" if "previous_wave" in metrics else "")
    p = _number(change.get("p_value"))
    q = _number(change.get("q_value"))  # the country report's verdict rests on q when given
    decisive, name = (q, "q") if q is not None else (p, "p")
    significant = decisive is not None and decisive < _alpha() and diff != 0
    arrow: Literal["", "up", "down"] = ("up" if diff > 0 else "down") if significant else ""
    since = f" since {previous_text}" if previous_text else ""
    if diff == 0:
        text = f"no change{since}"
    else:
        text = f"{'up' if diff > 0 else 'down'} {abs(diff):.1f} points{since}"
    test = ""
    if decisive is not None:
        text += ", significant" if significant else ", not a significant change"
        value = f"{name} < 0.001" if decisive < 0.001 else f"{name} = {decisive:.3f}"
        verdict = "significant" if significant else "not significant"
        test = f"{value}: {verdict} at the {_alpha():.0%} level"
    return _Change("difference", previous_text, text, test, arrow)


def _built_at(path: Path) -> str:
    try:
        stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return ""
    return stamp.strftime("%Y-%m-%d %H:%M UTC")


def _error(error: str) -> _Error:
    """One line a reader can act on; a traceback (a bug in the build) only behind "details"."""
    text = error.strip()
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) <= 1:
        return _Error("line", text, text)
    if lines[0].startswith("Traceback"):
        return _Error("traceback", lines[-1].strip(), text)
    return _Error("lines", lines[0], text)
