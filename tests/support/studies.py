"""Studies shaped unlike the sample, written by the tests: raw exports plus their codebooks.

Each shape is a survey a team might bring: NPS only; five attributes with other names on a
5-point scale and three loyalty items; a 7-point study with accounts, brands, stated importance,
expectations and text but no transaction survey or revenue; a 0-10 study with a transaction survey
and revenue but no text. Countries are a large one, a mid-sized one and one below the small-cell
minimum; two waves. Data are random but reproducible (seeded) and loosely correlated, so that
the key-driver section has something to find.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

__all__ = ["SHAPES", "Shape", "write_study"]

DATES = {"2026-Q1": "2026-02-{day:02d} 10:00:00", "2026-Q2": "2026-05-{day:02d} 10:00:00"}


@dataclass(frozen=True)
class Shape:
    """What a generated study holds."""

    name: str
    countries: dict[str, int]  # country code -> respondents per wave
    attributes: dict[str, str] = field(default_factory=dict)  # name -> label
    scale: tuple[int, int] = (1, 10)
    overall: bool = False
    loyalty: int = 0
    importance: int = 0
    expectation: int = 0
    account: bool = False
    brand: bool = False
    text: bool = False
    complaint: bool = False
    transactions: bool = False
    revenue: bool = False
    nps_name: str = "likelihood_to_recommend"


SHAPES: dict[str, Shape] = {
    s.name: s
    for s in (
        Shape("nps_only", {"FR": 80, "JP": 45, "NO": 12}, nps_name="recommend"),
        Shape(
            "five_point",
            {"US": 90, "BR": 60, "NA": 10},
            attributes={
                "responsiveness": "Responsiveness",
                "billing_clarity": "Billing clarity",
                "onboarding": "Onboarding",
                "uptime": "Platform uptime",
                "documentation": "Documentation",
            },
            scale=(1, 5),
            overall=True,
            loyalty=3,
        ),
        Shape(
            "seven_point",
            {"DE": 90, "AT": 50, "CH": 8},
            attributes={
                "sales_advice": "Sales advice",
                "spare_parts": "Spare parts availability",
                "field_service": "Field service",
                "pricing": "Pricing",
            },
            scale=(1, 7),
            importance=2,
            expectation=2,
            account=True,
            brand=True,
            text=True,
            complaint=True,
        ),
        Shape(
            "zero_ten_tx",
            {"GB": 85, "IE": 40},
            attributes={
                "network_quality": "Network quality",
                "customer_portal": "Customer portal",
                "technician_visits": "Technician visits",
            },
            scale=(0, 10),
            account=True,
            transactions=True,
            revenue=True,
        ),
    )
}

_LIKES = ["Quick answers from support", "Friendly staff", "Reliable product", "Fair prices"]
_DISLIKES = ["Late delivery again", "Invoices are confusing", "Too expensive", "Slow support"]


def _rating(rng: np.random.Generator, latent: float, scale: tuple[int, int]) -> int:
    lo, hi = scale
    noisy = latent + rng.normal(0, 0.12)
    return int(np.clip(np.rint(lo + noisy * (hi - lo)), lo, hi))


def _responses(shape: Shape, rng: np.random.Generator) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    n_id = 0
    for country, per_wave in shape.countries.items():
        accounts = [f"{country} Account {i} GmbH" for i in range(max(2, per_wave // 6))]
        for date in DATES.values():
            for i in range(per_wave):
                n_id += 1
                latent = rng.beta(5, 2.5)
                ratings = {a: _rating(rng, latent, shape.scale) for a in shape.attributes}
                row = {
                    "id": f"R{n_id:05d}",
                    "country": country,
                    "date": date.format(day=1 + i % 27),
                    "nps": str(_rating(rng, latent, (0, 10))),
                }
                for a, value in ratings.items():
                    row[a] = str(value)
                if shape.overall:
                    row["overall"] = str(_rating(rng, latent, shape.scale))
                for k in range(shape.loyalty):
                    row[f"loyal_{k}"] = str(_rating(rng, latent, shape.scale))
                for a in list(shape.attributes)[: shape.importance]:
                    row[f"imp_{a}"] = str(int(rng.integers(shape.scale[0], shape.scale[1] + 1)))
                for a in list(shape.attributes)[: shape.expectation]:
                    row[f"exp_{a}"] = str(_rating(rng, 0.8, shape.scale))
                if shape.account:
                    row["company"] = accounts[int(rng.integers(len(accounts)))]
                if shape.brand:
                    row["supplier"] = "Acme" if rng.random() < 0.75 else "Globex"
                if shape.text:
                    row["likes"] = str(rng.choice(_LIKES)) if rng.random() < 0.7 else ""
                    row["dislikes"] = str(rng.choice(_DISLIKES)) if rng.random() < 0.6 else ""
                if shape.complaint:
                    complaint = rng.random() < 0.2
                    row["complaint"] = "Order arrived damaged" if complaint else ""
                    row["may_contact"] = "yes" if rng.random() < 0.6 else "no"
                    row["email"] = f"person{n_id}@example.com"
                rows.append(row)
    return rows


def _responses_codebook(shape: Shape, rows: list[dict[str, str]]) -> dict:
    lo, hi = shape.scale
    columns: dict[str, dict] = {
        "response_id": {"source": "id", "role": "id"},
        "country": {"source": "country", "role": "country"},
        "date": {"source": "date", "role": "date", "format": "%Y-%m-%d %H:%M:%S"},
        shape.nps_name: {
            "source": "nps",
            "role": "nps",
            "label": "How likely to recommend us",
            "scale": [0, 10],
        },
    }
    if shape.overall:
        columns["overall_satisfaction"] = {
            "source": "overall",
            "role": "overall",
            "label": "Overall satisfaction",
            "scale": [lo, hi],
        }
    for a, label in shape.attributes.items():
        columns[a] = {"source": a, "role": "attribute", "label": label, "scale": [lo, hi]}
    for k in range(shape.loyalty):
        columns[f"loyalty_item_{k + 1}"] = {
            "source": f"loyal_{k}",
            "role": "loyalty",
            "label": f"Loyalty item {k + 1}",
            "scale": [lo, hi],
        }
    for a in list(shape.attributes)[: shape.importance]:
        columns[f"how_important_{a}"] = {
            "source": f"imp_{a}",
            "role": "importance",
            "attribute": a,
            "scale": [lo, hi],
        }
    for a in list(shape.attributes)[: shape.expectation]:
        columns[f"expected_{a}"] = {
            "source": f"exp_{a}",
            "role": "expectation",
            "attribute": a,
            "scale": [lo, hi],
        }
    if shape.account:
        columns["customer"] = {"source": "company", "role": "account", "label": "Customer"}
    if shape.brand:
        columns["supplier"] = {"source": "supplier", "role": "brand", "label": "Supplier"}
    if shape.text:
        columns["liked"] = {"source": "likes", "role": "text_like", "label": "Likes"}
        columns["disliked"] = {"source": "dislikes", "role": "text_dislike", "label": "Dislikes"}
    if shape.complaint:
        columns["complaint_text"] = {"source": "complaint", "role": "complaint"}
        columns["may_contact"] = {"source": "may_contact", "role": "contact_ok"}
        columns["email"] = {"source": "email", "role": "contact"}
    book: dict = {"kind": "responses", "file": f"{shape.name}.csv", "format": "csv"}
    if shape.brand:
        book["own_brand"] = "Acme"
    book["waves"] = {"from": "date"}
    book["columns"] = columns
    return book


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    fields = list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def _transactions(shape: Shape, rng: np.random.Generator, raw: Path) -> None:
    rows = []
    for k in range(300):
        country = list(shape.countries)[k % len(shape.countries)]
        rows.append(
            {
                "ticket": f"T{k:05d}",
                "closed": f"2026-0{1 + k % 6}-{1 + k % 27:02d} 09:00:00",
                "country": country,
                "company": f"{country} Account {k % 5} GmbH",
                "score": str(int(rng.integers(1, 6))),
                "ok": "Y" if rng.random() < 0.7 else "N",
                "email": f"ticket{k}@example.com",
            }
        )
    _write_csv(raw / "tickets.csv", rows)
    book = {
        "kind": "transactions",
        "file": "tickets.csv",
        "format": "csv",
        "waves": {"from": "date"},
        "columns": {
            "ticket_id": {"source": "ticket", "role": "id"},
            "date": {"source": "closed", "role": "date", "format": "%Y-%m-%d %H:%M:%S"},
            "country": {"source": "country", "role": "country"},
            "account": {"source": "company", "role": "account"},
            "ticket_satisfaction": {"source": "score", "role": "overall", "scale": [1, 5]},
            "contact_ok": {
                "source": "ok",
                "role": "contact_ok",
                "true_values": ["Y"],
                "false_values": ["N"],
            },
            "contact_email": {"source": "email", "role": "contact"},
        },
    }
    (raw / "tickets.codebook.yaml").write_text(yaml.safe_dump(book, sort_keys=False), "utf-8")


def _revenue(shape: Shape, raw: Path) -> None:
    rows = [
        {"account": f"{c} Account {i} GmbH", "country": c, "year": y, "usd": str(1000 * (i + 1))}
        for c in shape.countries
        for i in range(4)
        for y in ("2025", "2026")
    ]
    _write_csv(raw / "revenue.csv", rows)
    book = {
        "kind": "revenue",
        "file": "revenue.csv",
        "format": "csv",
        "columns": {
            "account": {"source": "account", "role": "account"},
            "country": {"source": "country", "role": "country"},
            "year": {"source": "year", "role": "other", "type": "int"},
            "revenue_usd": {"source": "usd", "role": "other", "type": "float"},
        },
    }
    (raw / "revenue.codebook.yaml").write_text(yaml.safe_dump(book, sort_keys=False), "utf-8")


def write_study(raw: Path, shape: Shape | str, *, seed: int = 7) -> Shape:
    """Write ``shape``'s exports and codebooks into the folder ``raw`` (created if needed)."""
    shape = SHAPES[shape] if isinstance(shape, str) else shape
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = _responses(shape, rng)
    _write_csv(raw / f"{shape.name}.csv", rows)
    book = _responses_codebook(shape, rows)
    (raw / f"{shape.name}.codebook.yaml").write_text(
        yaml.safe_dump(book, sort_keys=False, allow_unicode=True), "utf-8"
    )
    if shape.transactions:
        _transactions(shape, rng, raw)
    if shape.revenue:
        _revenue(shape, raw)
    return shape
