"""Synthetic sample data with a known truth: the exports, codebooks and lists in ``data/raw/``.

``generate(out_dir)`` writes a Qualtrics-style relationship survey, a transactional (ticket) survey,
revenue by account, a contact master, account aliases, a hand-coded CIT sample, the codebooks, the
organisation mapping, the past waves' invitations (deployment lists), a README and
``ground_truth.json``, byte-identical for the same seed (``csatlib.config.SYNTH_SEED``).
Every record is fictional: company names are invented, e-mail addresses use example.com/.org.

Generative model of the relationship survey (respondent i, country c, wave t, account j)::

    latent_ik = level_c + offset_k + wobble_ct + event_ctk - 0.55 * competitor_i
                + u_jc + h_i + e_ik                u_j ~ N(0, 0.45)   account loyalty effect,
                                                   u_jc = u_j - (mean of u over country c's
                                                   accounts, weighted by their share there)
                                                   h_i ~ N(0, 0.85)   halo (shared by attributes)
                                                   e_ik ~ N(0, 1.25)  attribute-specific
    x_ik  = clip(round(latent_ik), 1, 10)          the eight attribute ratings (Q7_1..Q7_8)
    S_i   = sum_k w_ck * x_ik                      w_c: true driver weights of country c (sum 1)
    ltr*_i = 7 + style_c + 1.6 * (S_i - 7) + N(0, 0.9)
    likelihood to recommend = clip(round(ltr*_i), 0, 10)

Because LTR is linear in the *observed* integer ratings, an OLS of LTR on the eight attributes
estimates 1.6 * w_c (attenuated only by rounding and clipping of LTR). Each country has its own
top three weights (0.32, 0.24, 0.18; the other five <= 0.08, total cost of ownership always 0.03),
so derived importance disagrees with stated importance (Q8), where cost is rated most important.
Overall satisfaction = round(S + 0.15 + N(0, 0.85)); the four loyalty items load on
L = (ltr* - 7.5) / 2.2 (item = round(mean + 1.65 L + N(0, 1.45)); Cronbach alpha about 0.8), the
cognitive item is exported reverse-coded ("I am considering switching supplier" = 11 - item).
Events: Brazil improves on every attribute in 2026-Q3 (+0.5), France's delivery drops by 1.8 in
2026-Q3 (NPS falls); the other countries wobble by at most 0.06 between waves.

Free text is critical-incident (CIT) style: each incident is drawn from ``PHRASE_BANK``, whose
entries carry their true CIT attribute; dislikes favour the respondent's low-rated attributes and
likes the high-rated ones (weight exp(+-0.8 (x - 7))). Injected defects (duplicates, empty
responses, speeders, straight-liners, out-of-range and non-numeric values, untrimmed and NFD text)
are counted and listed in ``ground_truth.json``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from pathlib import Path
from typing import Final, NamedTuple

import numpy as np
import pandas as pd
from scipy.special import ndtr

from csatlib.config import SYNTH_SEED
from csatlib.errors import DataError

__all__ = [
    "GENERATOR_VERSION",
    "ATTRIBUTES",
    "COUNTRIES",
    "WAVES",
    "OWN_BRAND",
    "COMPETITORS",
    "CIT_TAXONOMY",
    "CIT_TO_RATING",
    "PHRASE_BANK",
    "COUNTRY_SPELLINGS",
    "ACCOUNT_ALIASES",
    "true_driver_weights",
    "true_top_drivers",
    "generate",
]

GENERATOR_VERSION: Final = "1.0.0"

# --------------------------------------------------------------------------------------------
# Study design
# --------------------------------------------------------------------------------------------

ATTRIBUTES: Final[tuple[str, ...]] = (
    "product_quality",
    "total_cost_of_ownership",
    "post_sales_support",
    "on_site_service",
    "delivery",
    "invoicing_accuracy",
    "ease_of_ordering",
    "account_management",
)
_ATTRIBUTE_LABELS: Final = (
    "Product quality",
    "Total cost of ownership",
    "Post-sales support",
    "On-site service",
    "Delivery",
    "Invoicing accuracy",
    "Ease of ordering",
    "Account management",
)
_IMPORTANCE: Final = (
    "product_quality",
    "total_cost_of_ownership",
    "post_sales_support",
    "delivery",
)
_EXPECTATION: Final = ("product_quality", "post_sales_support", "delivery")
_LOYALTY: Final = ("emotional", "attitudinal", "cognitive", "referral")

WAVES: Final[tuple[str, ...]] = ("2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3")
_WAVE_BOUNDS: Final = np.array(
    ["2025-10-01", "2026-01-01", "2026-04-01", "2026-07-01", "2026-10-01"], dtype="datetime64[D]"
)
OWN_BRAND: Final = "Contoso"
COMPETITORS: Final[tuple[str, ...]] = ("Globex", "Initech", "Umbrella")
_SEGMENTS: Final = ("Enterprise", "Mid-market", "Small business", "Public sector")

COUNTRIES: Final[tuple[str, ...]] = (
    "US", "CA", "BR", "GB", "DE", "FR", "IT", "ES", "NL", "JP", "IN", "AU", "NA",
)  # fmt: skip
_BIG: Final = COUNTRIES[:-1]  # Namibia ("NA") is the small-cell country
_REGION: Final = {
    "US": "AMER", "CA": "AMER", "BR": "AMER", "GB": "EMEA", "DE": "EMEA", "FR": "EMEA",
    "IT": "EMEA", "ES": "EMEA", "NL": "EMEA", "NA": "EMEA", "JP": "APJ", "IN": "APJ", "AU": "APJ",
}  # fmt: skip
#: local language of verbatims (30 % of DE/FR/JP respondents write in it)
_LANGS: Final = ("en", "de", "fr", "ja")
_LOCAL_LANG: Final = {"DE": 1, "FR": 2, "JP": 3}
_NAME_POOL: Final = {
    "US": "en", "CA": "en", "BR": "pt", "GB": "en", "DE": "de", "FR": "fr", "IT": "it",
    "ES": "es", "NL": "nl", "JP": "ja", "IN": "in", "AU": "en", "NA": "na",
}  # fmt: skip

# per country: responses per wave, competitor share, attribute level, response style, top three
_N_PER_WAVE: Final = (555, 440, 470, 520, 540, 500, 450, 440, 430, 480, 470, 440, 15)
_COMPETITOR_SHARE: Final = (
    0.14,
    0.12,
    0.17,
    0.15,
    0.16,
    0.13,
    0.18,
    0.15,
    0.12,
    0.16,
    0.14,
    0.13,
    0.10,
)
_LEVEL: Final = (7.75, 7.8, 7.35, 7.45, 7.25, 7.65, 7.3, 7.5, 7.35, 7.15, 8.0, 7.75, 7.4)
_STYLE: Final = (0.0, 0.0, 0.1, -0.1, -0.15, -0.05, 0.05, 0.05, -0.05, -0.55, 0.2, 0.0, 0.0)
_TOP3: Final = (
    ("post_sales_support", "product_quality", "account_management"),  # US
    ("product_quality", "delivery", "post_sales_support"),  # CA
    ("delivery", "invoicing_accuracy", "product_quality"),  # BR
    ("account_management", "post_sales_support", "ease_of_ordering"),  # GB
    ("product_quality", "on_site_service", "delivery"),  # DE
    ("delivery", "post_sales_support", "invoicing_accuracy"),  # FR
    ("on_site_service", "account_management", "product_quality"),  # IT
    ("ease_of_ordering", "delivery", "account_management"),  # ES
    ("invoicing_accuracy", "ease_of_ordering", "post_sales_support"),  # NL
    ("product_quality", "on_site_service", "invoicing_accuracy"),  # JP
    ("post_sales_support", "ease_of_ordering", "delivery"),  # IN
    ("account_management", "delivery", "on_site_service"),  # AU
    ("account_management", "invoicing_accuracy", "delivery"),  # NA
)
_TOP_WEIGHTS: Final = (0.32, 0.24, 0.18)
_REST_WEIGHTS: Final = (0.08, 0.065, 0.05, 0.035)
_COST_WEIGHT: Final = 0.03
_ATTRIBUTE_OFFSET: Final = np.array([0.4, -0.6, 0.0, 0.2, -0.2, 0.3, 0.1, 0.2])
_DK_RATE: Final = np.array([0.04, 0.07, 0.05, 0.08, 0.04, 0.06, 0.05, 0.06])
_ACCOUNT_SD, _HALO_SD, _SPECIFIC_SD = 0.45, 0.85, 1.25
_COMPETITOR_GAP: Final = 0.55
_LTR_CENTER, _LTR_GAIN, _LTR_NOISE_SD = 7.0, 1.6, 0.9
_LOYALTY_MEAN: Final = np.array([6.8, 7.6, 7.2, 7.0])
_LOYALTY_LOADING, _LOYALTY_NOISE_SD = 1.65, 1.45
_IMPORTANCE_MEAN: Final = np.array([8.4, 8.9, 7.9, 7.5])  # cost is "most important" when asked
_MODEL_SUMMARY: Final = (
    "latent_ik = level_c + offset_k + wobble_ct + event_ctk - 0.55 competitor_i"
    " + u_jc + h_i + e_ik",
    "u_j ~ N(0, 0.45) account loyalty effect, centred within country c (weighted by account mix)",
    "h_i ~ N(0, 0.85) halo shared by the attributes; e_ik ~ N(0, 1.25) attribute-specific",
    "x_ik = clip(round(latent_ik), 1, 10): the eight attribute ratings Q7_1..Q7_8",
    "S_i = sum_k w_ck x_ik with w_c the country's driver_weights (sum 1)",
    "ltr*_i = 7 + style_c + 1.6 (S_i - 7) + N(0, 0.9); LTR (Q5) = clip(round(ltr*_i), 0, 10)",
    "OLS of LTR on the eight ratings estimates 1.6 w_c (attenuated by rounding/clipping of LTR)",
    "overall satisfaction (Q6) = clip(round(S_i + 0.15 + N(0, 0.85)), 1, 10)",
    "loyalty item m = clip(round(mean_m + 1.65 L_i + N(0, 1.45)), 1, 10),"
    " L_i = (ltr*_i - 7.5) / 2.2; Q9_3 is exported as 11 - item (considering switching)",
    "stated importance (Q8) ignores w_c: cost has the highest mean although its weight is 0.03",
    "competitors' customers: attributes 0.55 lower; don't know (99) drawn independently",
)
_EVENTS: Final = (
    {"country": "BR", "wave": "2026-Q3", "attribute": None, "shift": 0.5,
     "story": "new local service partner: every attribute improves"},
    {"country": "FR", "wave": "2026-Q3", "attribute": "delivery", "shift": -1.8,
     "story": "logistics provider change: delivery clearly worse than last wave"},
)  # fmt: skip

COUNTRY_SPELLINGS: Final[dict[str, tuple[tuple[str, float], ...]]] = {
    "US": (("United States", 0.40), ("US", 0.15), ("USA", 0.14), ("U.S.A.", 0.08),
           ("United States of America", 0.10), ("us", 0.04), ("united states", 0.05),
           ("U.S.", 0.04)),
    "CA": (("Canada", 0.72), ("CA", 0.14), ("CAN", 0.07), ("canada", 0.07)),
    "BR": (("Brazil", 0.50), ("Brasil", 0.25), ("BR", 0.12), ("BRA", 0.06), ("brazil", 0.07)),
    "GB": (("United Kingdom", 0.42), ("UK", 0.25), ("GB", 0.08), ("Great Britain", 0.08),
           ("GBR", 0.04), ("U.K.", 0.05), ("England", 0.05), ("united kingdom", 0.03)),
    "DE": (("Germany", 0.45), ("Deutschland", 0.30), ("DE", 0.10), ("DEU", 0.05),
           ("GERMANY", 0.05), ("germany", 0.05)),
    "FR": (("France", 0.75), ("FR", 0.12), ("FRA", 0.05), ("france", 0.08)),
    "IT": (("Italy", 0.50), ("Italia", 0.30), ("IT", 0.10), ("ITA", 0.05), ("italy", 0.05)),
    "ES": (("Spain", 0.50), ("España", 0.30), ("ES", 0.10), ("ESP", 0.05), ("spain", 0.05)),
    "NL": (("Netherlands", 0.40), ("The Netherlands", 0.20), ("Nederland", 0.15),
           ("Holland", 0.10), ("NL", 0.10), ("NLD", 0.05)),
    "JP": (("Japan", 0.50), ("日本", 0.25), ("Nihon", 0.05), ("JP", 0.10), ("JPN", 0.05),
           ("japan", 0.05)),
    "IN": (("India", 0.75), ("IN", 0.12), ("IND", 0.05), ("india", 0.08)),
    "AU": (("Australia", 0.70), ("AU", 0.12), ("AUS", 0.08), ("australia", 0.10)),
    "NA": (("Namibia", 0.60), ("NA", 0.40)),
}  # fmt: skip

# --------------------------------------------------------------------------------------------
# CIT taxonomy and phrase bank
# --------------------------------------------------------------------------------------------

CIT_TAXONOMY: Final[dict[str, tuple[str, ...]]] = {
    "easy_to_do_business_with": (
        "on_time_delivery",
        "invoice_accuracy",
        "ordering_process",
        "responsiveness",
    ),
    "reliable_products": ("product_reliability", "product_performance"),
    "expert_support": ("support_expertise", "first_call_resolution", "onsite_engineers"),
    "good_value": ("pricing", "licensing_terms"),
    "partnership": ("account_manager", "proactive_advice"),
}
_CIT: Final = tuple(a for attrs in CIT_TAXONOMY.values() for a in attrs)
#: CIT attribute -> the rated attribute (Q7) whose score drives how often it is mentioned
CIT_TO_RATING: Final[dict[str, str]] = {
    "on_time_delivery": "delivery",
    "invoice_accuracy": "invoicing_accuracy",
    "ordering_process": "ease_of_ordering",
    "responsiveness": "post_sales_support",
    "product_reliability": "product_quality",
    "product_performance": "product_quality",
    "support_expertise": "post_sales_support",
    "first_call_resolution": "post_sales_support",
    "onsite_engineers": "on_site_service",
    "pricing": "total_cost_of_ownership",
    "licensing_terms": "total_cost_of_ownership",
    "account_manager": "account_management",
    "proactive_advice": "account_management",
}

_RARE: Final = 0.12  # weight of the phrases with < > & " (escaping test cases)
_BANK_SPEC: Final[dict[str | None, dict[str, tuple[str, ...]]]] = {
    "on_time_delivery": {
        "en+": ("deliveries always on time", "on-time delivery", "shipments arrive when promised",
                "fast delivery", "delivery dates are reliable"),
        "en-": ("delivery not on time", "never on time", "shipments arrive late",
                "delivery dates keep slipping", "lead times > 6 weeks"),
        "de+": ("Lieferung immer pünktlich", "schnelle Lieferung"),
        "de-": ("Lieferung nicht pünktlich", "Lieferungen kommen zu spät"),
        "fr+": ("livraison toujours à l'heure", "livraisons rapides"),
        "fr-": ("livraison pas à l'heure", "retards de livraison fréquents"),
        "ja+": ("納期どおりに届く", "配送が早い"),
        "ja-": ("納期が守られない", "配送が遅れる"),
    },
    "invoice_accuracy": {
        "en+": ("invoices are accurate", "billing is always correct", "clear and correct invoices"),
        "en-": ("invoices full of errors", "wrong prices on the invoice",
                "billing mistakes every month", "invoice total <> PO total"),
        "de+": ("Rechnungen sind korrekt", "fehlerfreie Abrechnung"),
        "de-": ("fehlerhafte Rechnungen", "Rechnungen stimmen nicht"),
        "fr+": ("factures exactes", "facturation sans erreur"),
        "fr-": ("erreurs de facturation", "factures incorrectes"),
        "ja+": ("請求書が正確", "請求に間違いがない"),
        "ja-": ("請求書の誤りが多い", "請求金額が違う"),
    },
    "ordering_process": {
        "en+": ("easy to place orders", "the web shop is simple to use", "ordering is quick"),
        "en-": ("ordering portal is confusing", "too many steps to place an order",
                "the web shop keeps crashing"),
        "de+": ("einfache Bestellung", "Webshop leicht zu bedienen"),
        "de-": ("Bestellprozess zu kompliziert", "Webshop ist umständlich"),
        "fr+": ("commande facile", "boutique en ligne simple"),
        "fr-": ("processus de commande compliqué", "portail de commande peu pratique"),
        "ja+": ("注文が簡単", "ウェブショップが使いやすい"),
        "ja-": ("注文手続きが複雑", "注文サイトが使いにくい"),
    },
    "responsiveness": {
        "en+": ("quick response to emails", "they always call back the same day",
                "responsive team", "response time < 1 hour"),
        "en-": ("support is not responsive", "nobody answers the phone",
                "waited days for a reply", "support said \"we'll call back\" & never did"),
        "de+": ("schnelle Reaktion auf Anfragen", "reagieren sofort"),
        "de-": ("keine Rückmeldung auf Anfragen", "reagieren nicht auf E-Mails"),
        "fr+": ("réponse rapide", "équipe très réactive"),
        "fr-": ("aucune réponse aux e-mails", "équipe pas réactive"),
        "ja+": ("問い合わせへの対応が早い", "返事がすぐ来る"),
        "ja-": ("問い合わせへの返事が遅い", "電話がつながらない"),
    },
    "product_reliability": {
        "en+": ("products are reliable", "hardware never fails", "rock solid equipment"),
        "en-": ("frequent hardware failures", "products break down too often",
                "units not reliable"),
        "de+": ("zuverlässige Produkte", "Geräte laufen stabil"),
        "de-": ("häufige Ausfälle", "Produkte nicht zuverlässig"),
        "fr+": ("produits fiables", "matériel très robuste"),
        "fr-": ("pannes fréquentes", "produits pas fiables"),
        "ja+": ("製品の信頼性が高い", "故障が少ない"),
        "ja-": ("故障が多い", "製品がすぐ壊れる"),
    },
    "product_performance": {
        "en+": ("excellent performance", "fast and powerful products",
                "performance exceeds specs"),
        "en-": ("performance below specification", "systems are slow under load",
                "throughput not as promised"),
        "de+": ("hervorragende Leistung", "sehr schnelle Systeme"),
        "de-": ("Leistung unter den Erwartungen", "Systeme zu langsam"),
        "fr+": ("excellentes performances", "systèmes très rapides"),
        "fr-": ("performances décevantes", "systèmes trop lents"),
        "ja+": ("性能が高い", "処理速度が速い"),
        "ja-": ("性能が期待以下", "処理が遅い"),
    },
    "support_expertise": {
        "en+": ("support engineers know their stuff", "knowledgeable support staff",
                "expert technical support"),
        "en-": ("support staff lack product knowledge", "first-line support reads from a script",
                "support could not answer technical questions"),
        "de+": ("kompetenter Support", "Support kennt sich gut aus"),
        "de-": ("Support ohne Fachwissen", "Hotline nicht kompetent"),
        "fr+": ("support très compétent", "techniciens qualifiés"),
        "fr-": ("support peu compétent", "le support ne connaît pas le produit"),
        "ja+": ("サポートの知識が豊富", "技術サポートが的確"),
        "ja-": ("サポートの知識が不足", "技術的な質問に答えられない"),
    },
    "first_call_resolution": {
        "en+": ("issues fixed on the first call", "problems solved quickly",
                "one call and it was resolved"),
        "en-": ("tickets bounce between teams", "had to call three times for the same issue",
                "problems never fully resolved"),
        "de+": ("Probleme beim ersten Anruf gelöst", "schnelle Problemlösung"),
        "de-": ("Tickets werden hin und her geschoben", "Probleme nie ganz gelöst"),
        "fr+": ("problème résolu dès le premier appel", "résolution rapide des incidents"),
        "fr-": ("il faut rappeler plusieurs fois", "incidents jamais résolus"),
        "ja+": ("一回の問い合わせで解決した", "問題解決が早い"),
        "ja-": ("何度も問い合わせが必要", "問題が解決しない"),
    },
    "onsite_engineers": {
        "en+": ("field engineers are great", "on-site technicians arrive prepared",
                "service technicians are friendly and skilled"),
        "en-": ("field engineer came without spare parts", "on-site visits get rescheduled",
                "technicians arrive late"),
        "de+": ("Techniker vor Ort sehr gut", "Servicetechniker kompetent"),
        "de-": ("Techniker kam ohne Ersatzteile", "Vor-Ort-Termine werden verschoben"),
        "fr+": ("techniciens sur site excellents", "intervention sur site efficace"),
        "fr-": ("technicien venu sans pièces", "interventions sur site reportées"),
        "ja+": ("現地エンジニアが優秀", "訪問サービスが丁寧"),
        "ja-": ("エンジニアが部品を持ってこない", "訪問日程がよく変更される"),
    },
    "pricing": {
        "en+": ("competitive prices", "good value for money", "fair pricing"),
        "en-": ("too expensive", "prices went up again", "not competitive on price"),
        "de+": ("faire Preise", "gutes Preis-Leistungs-Verhältnis"),
        "de-": ("zu teuer", "Preise ständig erhöht"),
        "fr+": ("prix compétitifs", "bon rapport qualité-prix"),
        "fr-": ("trop cher", "hausses de prix répétées"),
        "ja+": ("価格が手頃", "コストパフォーマンスが良い"),
        "ja-": ("価格が高すぎる", "値上げが多い"),
    },
    "licensing_terms": {
        "en+": ("flexible licensing", "simple license terms", "fair contract terms"),
        "en-": ("licensing is too complicated", "license audits are painful",
                'the "premium" tier is not worth it'),
        "de+": ("flexible Lizenzmodelle", "faire Vertragsbedingungen"),
        "de-": ("Lizenzmodell zu kompliziert", "unflexible Verträge"),
        "fr+": ("licences flexibles", "conditions contractuelles claires"),
        "fr-": ("licences trop compliquées", "contrats rigides"),
        "ja+": ("ライセンス体系が柔軟", "契約条件が明確"),
        "ja-": ("ライセンスが複雑すぎる", "契約条件が厳しい"),
    },
    "account_manager": {
        "en+": ("my account manager is excellent", "great sales rep",
                "account manager knows our business"),
        "en-": ("account manager changes every year", "never see our sales rep",
                "account manager does not follow up"),
        "de+": ("sehr guter Account Manager", "Ansprechpartner im Vertrieb top"),
        "de-": ("ständig wechselnde Ansprechpartner", "Account Manager meldet sich nie"),
        "fr+": ("excellent commercial", "interlocuteur commercial disponible"),
        "fr-": ("interlocuteur change tout le temps", "commercial injoignable"),
        "ja+": ("営業担当が親切", "担当者が当社をよく理解している"),
        "ja-": ("営業担当がよく変わる", "担当者から連絡がない"),
    },
    "proactive_advice": {
        "en+": ("proactive advice on upgrades", "they suggest improvements before we ask",
                "helpful roadmap briefings", "R&D team shares useful tips"),
        "en-": ("no proactive advice", "only contact us to sell more",
                "never told us about end-of-life dates"),
        "de+": ("proaktive Beratung", "gute Hinweise zu Upgrades"),
        "de-": ("keine proaktive Beratung", "melden sich nur zum Verkaufen"),
        "fr+": ("conseils proactifs", "bonnes recommandations"),
        "fr-": ("aucun conseil proactif", "nous contactent seulement pour vendre"),
        "ja+": ("積極的な提案がある", "改善提案が役に立つ"),
        "ja-": ("提案が全くない", "売り込みの時だけ連絡が来る"),
    },
    None: {  # off-topic or "nothing": no CIT attribute
        "en+": ("nothing special", "no comment", "the user conference was fun"),
        "en-": ("nothing", "no complaints", "nothing to add"),
        "de+": ("nichts Besonderes",),
        "de-": ("nichts",),
        "fr+": ("rien de particulier",),
        "fr-": ("rien à signaler",),
        "ja+": ("特になし",),
        "ja-": ("特にありません",),
    },
}  # fmt: skip
_RARE_MARKERS: Final = ("<", ">", "&", '"')
_TYPOS: Final = (
    ("delivery", "delivrey"), ("deliveries", "deliveires"), ("support", "suport"),
    ("invoices", "invoces"), ("invoice", "invocie"), ("responsive", "responsiv"),
    ("engineers", "enginers"), ("reliable", "relaible"), ("prices", "prcies"),
    ("account", "acount"), ("manager", "manger"), ("ordering", "odering"),
    ("performance", "perfomance"), ("technicians", "technicans"), ("licensing", "lisencing"),
    ("expensive", "expensiv"), ("always", "allways"), ("quick", "quik"), ("orders", "oders"),
)  # fmt: skip


def _typo(text: str) -> str:
    for right, wrong in _TYPOS:
        if re.search(rf"\b{right}\b", text):
            return re.sub(rf"\b{right}\b", wrong, text, count=1)
    return text


def _build_bank() -> pd.DataFrame:
    rows = []
    for attribute, by_key in _BANK_SPEC.items():
        for key, phrases in by_key.items():
            for text in phrases:
                rare = any(m in text for m in _RARE_MARKERS)
                rows.append(
                    {
                        "attribute": attribute or "",
                        "language": key[:2],
                        "polarity": "positive" if key[2] == "+" else "negative",
                        "text": text,
                        "typo": _typo(text) if key[:2] == "en" else text,
                        "weight": _RARE if rare else 1.0,
                    }
                )
    return pd.DataFrame(rows)


#: Every incident phrase of the verbatims with its true CIT attribute ("" = off-topic/nothing).
#: Columns: attribute, language (en/de/fr/ja), polarity (positive/negative), text, typo (the
#: misspelt form used for ~5 % of English incidents; equal to text when no word has a typo),
#: weight (relative frequency within attribute x language x polarity).
PHRASE_BANK: Final[pd.DataFrame] = _build_bank()

_COMPLAINTS: Final = {
    "en": (
        "Server outage in March was not handled properly, we lost two days of production.",
        "Replacement parts took three weeks to arrive.",
        "Invoice credited twice and nobody can explain the balance.",
        "The licence audit was handled in an aggressive way.",
        "Escalated a critical ticket and got no update for a week.",
        "Sales promised a discount that never appeared on the invoice.",
        "Field engineer damaged a rack during installation.",
        "The order portal lost our order twice.",
        'The so-called "priority" line put us on hold for 45 minutes & then hung up.',
        "Contract renewal terms changed without notice.",
    ),
    "de": (
        "Reklamation seit sechs Wochen offen, keine Rückmeldung.",
        "Falsche Ware geliefert und Rücksendung kostenpflichtig.",
    ),
    "fr": (
        "Réclamation ouverte depuis deux mois sans réponse.",
        "Livraison endommagée et aucun geste commercial.",
    ),
    "ja": ("故障の連絡から一週間対応がなかった。", "請求書の訂正に二か月かかった。"),
}
#: the complaint with dollar amounts (a MathJax trap in HTML reports); exactly one respondent
_DOLLAR_COMPLAINT: Final = (
    "We paid $5 per seat and now $10 per seat after the renewal, nobody told us why."
)

_TICKET_COMMENTS: Final = {
    "high": ("Quick fix, thanks!", "Engineer was very helpful.", "Resolved on the first call.",
             "Great service as always.", "Fast & friendly.", "Good follow-up."),
    "mid": ("Took a while but got there.", "OK, but needed two calls.", "Fine.",
            "Part arrived a day late."),
    "low": ("Nobody called back.", "Ticket closed without a fix.",
            "Third time this month the same issue.",
            "Was told \"it's a known bug\" <no ETA>.", "Waited 5 days for a part."),
    "de_high": ("Schnelle Hilfe, danke.",), "de_low": ("Techniker kam nicht.",),
    "fr_high": ("Très bon service.",), "fr_low": ("Toujours pas résolu.",),
    "ja_high": ("対応が早くて助かりました。",), "ja_low": ("まだ解決していません。",),
}  # fmt: skip

# --------------------------------------------------------------------------------------------
# People and accounts (all invented)
# --------------------------------------------------------------------------------------------

# (display, ascii) pairs; Japanese names have a kanji display form for a quarter of respondents
_FIRST: Final[dict[str, tuple[str, ...]]] = {
    "en": ("James", "Mary", "Robert", "Patricia", "Michael", "Linda", "David", "Susan", "Daniel",
           "Karen", "Thomas", "Emily", "Chris", "Olivia", "Noah", "Grace"),
    "de": ("Jürgen", "Anna", "Lukas", "Sophie", "Maximilian", "Lena", "Jonas", "Katrin",
           "Matthias", "Sabine", "Felix", "Jörg"),
    "fr": ("Hélène", "Jean", "Marie", "Pierre", "Camille", "Luc", "Élodie", "François", "Chloé",
           "Nicolas", "Amélie", "Julien"),
    "it": ("Giulia", "Marco", "Francesca", "Luca", "Chiara", "Matteo", "Sara", "Alessandro",
           "Elena", "Davide"),
    "es": ("José", "María", "Javier", "Lucía", "Carlos", "Carmen", "Álvaro", "Sofía", "Pablo",
           "Marta"),
    "pt": ("João", "Ana", "Pedro", "Beatriz", "Lucas", "Mariana", "Rafael", "Camila", "Gabriel",
           "Larissa"),
    "nl": ("Daan", "Emma", "Sem", "Julia", "Lucas", "Tess", "Bram", "Sanne", "Thijs", "Fleur"),
    "ja": ("Hiroshi", "Yuki", "Takeshi", "Aiko", "Kenji", "Naoko", "Daisuke", "Emi", "Shota",
           "Haruka"),
    "in": ("Aarav", "Priya", "Rahul", "Ananya", "Vikram", "Sneha", "Arjun", "Kavya", "Rohan",
           "Divya"),
    "na": ("Ndapewa", "Johannes", "Maria", "Tangeni", "Hilma", "Petrus", "Selma", "Frans"),
}  # fmt: skip
_LAST: Final[dict[str, tuple[str, ...]]] = {
    "en": ("Smith", "Johnson", "Brown", "Taylor", "Wilson", "Clarke", "Walker", "Harris",
           "Lewis", "Young", "Hill", "Scott", "Green", "Baker", "Adams", "Turner"),
    "de": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Hoffmann", "Schäfer",
           "Koch", "Bauer", "Richter", "Krüger", "Weiß"),
    "fr": ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
           "Lefèvre", "Moreau", "Girard", "Lévêque"),
    "it": ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
           "Marino", "Greco"),
    "es": ("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez",
           "Pérez", "Gómez", "Ruiz"),
    "pt": ("Silva", "Santos", "Oliveira", "Souza", "Lima", "Pereira", "Ferreira", "Costa",
           "Rodrigues", "Almeida"),
    "nl": ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser", "Smit",
           "Meijer", "de Boer"),
    "ja": ("Tanaka", "Suzuki", "Takahashi", "Watanabe", "Ito", "Yamamoto", "Nakamura",
           "Kobayashi", "Kato", "Yoshida"),
    "in": ("Sharma", "Patel", "Iyer", "Reddy", "Nair", "Gupta", "Singh", "Rao", "Menon", "Das"),
    "na": ("Shikongo", "Nghidinwa", "van Wyk", "Amutenya", "Haufiku", "Nel", "Iipumbu", "Kapia"),
}  # fmt: skip
_KANJI: Final = {
    "Hiroshi": "浩", "Yuki": "由紀", "Takeshi": "武", "Aiko": "愛子", "Kenji": "健二",
    "Naoko": "直子", "Daisuke": "大輔", "Emi": "恵美", "Shota": "翔太", "Haruka": "遥",
    "Tanaka": "田中", "Suzuki": "鈴木", "Takahashi": "高橋", "Watanabe": "渡辺", "Ito": "伊藤",
    "Yamamoto": "山本", "Nakamura": "中村", "Kobayashi": "小林", "Kato": "加藤", "Yoshida": "吉田",
}  # fmt: skip

_SUFFIXES: Final = {
    "US": ("Inc.", "Corp.", "LLC"), "CA": ("Inc.", "Ltd."), "BR": ("Ltda.", "S.A."),
    "GB": ("Ltd", "plc"), "DE": ("GmbH", "AG"), "FR": ("S.A.", "SAS"), "IT": ("S.p.A.", "S.r.l."),
    "ES": ("S.A.", "S.L."), "NL": ("B.V.", "N.V."), "JP": ("K.K.", "Co., Ltd."),
    "IN": ("Pvt Ltd", "Ltd"), "AU": ("Pty Ltd",), "NA": ("(Pty) Ltd",),
}  # fmt: skip
#: how respondents re-punctuate a legal suffix ("Inc." -> "Inc", "Ltd" -> "Ltd.", "AG" -> "A.G.")
_SUFFIX_VARIANT: Final = {
    "GmbH": "Gmbh", "AG": "A.G.", "SAS": "S.A.S.", "LLC": "L.L.C.", "plc": "PLC", "Ltd": "Ltd.",
    "Pvt Ltd": "Pvt. Ltd.", "Pty Ltd": "Pty. Ltd.", "Co., Ltd.": "Co Ltd",
}  # fmt: skip
_INDUSTRIES: Final = {
    "en": ("Analytics", "Logistics", "Manufacturing", "Health Systems", "Foods", "Energy",
           "Materials", "Financial Group", "Retail", "Aerospace"),
    "pt": ("Logística", "Alimentos", "Mineração", "Energia", "Tecnologia", "Transportes",
           "Engenharia", "Saúde", "Varejo", "Papel"),
    "de": ("Maschinenbau", "Logistik", "Chemie", "Werkzeuge", "Automation", "Elektronik",
           "Kunststoff", "Pharma", "Bau", "Antriebe"),
    "fr": ("Transports", "Aéronautique", "Agroalimentaire", "Énergie", "Santé", "Ingénierie",
           "Distribution", "Matériaux", "Emballages", "Services"),
    "it": ("Meccanica", "Alimentare", "Tessile", "Logistica", "Ceramiche", "Farmaceutica",
           "Impianti", "Automazione", "Costruzioni", "Energia"),
    "es": ("Logística", "Energía", "Construcciones", "Alimentación", "Farmacéutica",
           "Transportes", "Ingeniería", "Minería", "Servicios", "Químicas"),
    "nl": ("Logistiek", "Techniek", "Installaties", "Voeding", "Transport", "Bouw", "Energie",
           "Verpakkingen", "Zorg", "Handel"),
    "ja": ("Seiki", "Denki", "Shoji", "Kogyo", "Unyu", "Kasei", "Kikai", "Tsushin", "Seiyaku",
           "Kensetsu"),
    "in": ("Infotech", "Pharma", "Textiles", "Logistics", "Engineering", "Agro", "Power",
           "Chemicals", "Steel", "Retail"),
}  # fmt: skip
_STEMS: Final = {
    "US": ("Redcliff", "Bluestem", "Copperline", "Harborview", "Ironwood", "Lakeshore",
           "Quillfeather", "Silverbrook", "Thornbury", "Wexford Hollow"),
    "CA": ("Northcove", "Spruceview", "Maplewick", "Ravenshore", "Caribou Flats", "Laurentide",
           "Saltmarsh", "Frostridge", "Kingsmere", "Tamarack Bay"),
    "BR": ("Ipêverde", "Serra Azul", "Caravela", "Jacarandá", "Pedra Branca", "Mata Alta",
           "Costa Dourada", "Cerrado Vivo", "Lagoa Funda", "Boa Brisa"),
    "GB": ("Ashcombe", "Thistledown", "Kingsbridge", "Marlowe & Finch", "Pennywhistle",
           "Wrenfield", "Holloway Crane", "Bramblegate", "Fernleigh", "Oakhollow"),
    "DE": ("Bergfeld", "Lindenhof", "Rheinblick", "Tannenhöhe", "Kranichsteg", "Weißdorn",
           "Sonnenfeld", "Grünau", "Eichwald", "Lerchenberg"),
    "FR": ("Beauregard", "Montclair", "Val-de-Brume", "Hirondelle", "Rocheblanche", "Belleforêt",
           "Chantemerle", "Vieux-Moulin", "Pré-Fleuri"),
    "IT": ("Colleverde", "Fontebella", "Pietrarossa", "Vallombra", "Borgofiorito", "Lucciola",
           "Girasole", "Torre Alta", "Monteserra", "Rivabianca"),
    "ES": ("Sierra Clara", "Olivar Dorado", "Peñasco", "Brisamar", "Robledal", "Vientosur",
           "Campoluz", "Almendral", "Torremar", "Encinar Alto"),
    "NL": ("Polderzicht", "Tulpenburg", "Molenwaard", "Zeewind", "Kanaalzijde", "Duinroos",
           "Heidevelde", "Waterlelie", "Ooievaar", "Klompenhoek"),
    "JP": ("Aozora", "Sakuragawa", "Kazeyama", "Hoshizora", "Midorino", "Kawabata", "Shiranami",
           "Fujikage", "Tsukikage"),
    "IN": ("Vedanthi", "Suryodaya", "Nilgiri Crest", "Aravalli Peaks", "Chandrakiran", "Tejasvi",
           "Prithvika", "Jalvayu", "Sahyadri Bloom", "Mayurpankh"),
    "AU": ("Wattlebrook", "Kookaburra Ridge", "Saltbush", "Bluegum", "Ironbark", "Coralbay",
           "Redgum Flat", "Yarrowee", "Boab Creek", "Mallee Point"),
}  # fmt: skip
_LANG_OF_HOME: Final = {
    "US": "en", "CA": "en", "GB": "en", "AU": "en", "BR": "pt", "DE": "de", "FR": "fr",
    "IT": "it", "ES": "es", "NL": "nl", "JP": "ja", "IN": "in",
}  # fmt: skip
# hand-made accounts: canonical, home, countries, spellings (canonical first)
_SPECIAL_ACCOUNTS: Final = (
    ("Acme Holdings Inc.", ("US", "CA", "GB", "NA"),
     ("Acme Holdings Inc.", "ACME HOLDINGS", "Acme Holdings, Inc", "Acme Holdings Inc",
      "acme holdings")),
    ("Müller Präzisionstechnik GmbH", ("DE", "FR", "IT", "ES"),
     ("Müller Präzisionstechnik GmbH", "Mueller Praezisionstechnik",
      "MÜLLER PRÄZISIONSTECHNIK GMBH", "Müller Präzisionstechnik",
      "Mueller Praezisionstechnik GmbH")),
    ("+Plus Logistics Ltd", ("GB", "NL"),
     ("+Plus Logistics Ltd", "+Plus Logistics", "+PLUS LOGISTICS LTD")),
    ("Nordwind Energie GmbH", ("DE", "NL"),
     ("Nordwind Energie GmbH", "NORDWIND ENERGIE GMBH", "Nordwind Energie")),
    ("Nordwind Energy Inc", ("US", "CA"),
     ("Nordwind Energy Inc", "Nordwind Energy, Inc.", "NORDWIND ENERGY")),
    ("Hayashi Seiki K.K.", ("JP", "AU", "IN"),
     ("Hayashi Seiki K.K.", "Hayashi Seiki KK", "HAYASHI SEIKI", "Hayashi Seiki Co., Ltd.")),
    ("Ferreira & Filhos Ltda.", ("BR",),
     ("Ferreira & Filhos Ltda.", "Ferreira & Filhos", "FERREIRA & FILHOS LTDA",
      "Ferreira e Filhos Ltda")),
    ("Lumière Optique S.A.", ("FR", "ES", "IT"),
     ("Lumière Optique S.A.", "Lumiere Optique SA", "LUMIÈRE OPTIQUE", "Lumière Optique")),
    ("Kalahari Copper (Pty) Ltd", ("NA",),
     ("Kalahari Copper (Pty) Ltd", "Kalahari Copper", "KALAHARI COPPER (PTY) LTD")),
    ("Swakop Freight (Pty) Ltd", ("NA",), ("Swakop Freight (Pty) Ltd", "Swakop Freight")),
)  # fmt: skip
#: Manual overrides for account matching (alias as respondents write it -> canonical account):
#: spellings no fuzzy matcher can link. Each alias is used by ~10 % of that account's responses.
ACCOUNT_ALIASES: Final[tuple[tuple[str, str], ...]] = (
    ("MPT GmbH", "Müller Präzisionstechnik GmbH"),
    ("林精機株式会社", "Hayashi Seiki K.K."),
    ("Ferreira and Sons", "Ferreira & Filhos Ltda."),
    ("AHI", "Acme Holdings Inc."),
    ("Lumiere Optics", "Lumière Optique S.A."),
    ("QMI", "Quillfeather Materials Inc."),
)
_SIMILAR_DISTINCT: Final = (("Nordwind Energie GmbH", "Nordwind Energy Inc"),)
_N_REVENUE_ONLY, _N_NOT_IN_REVENUE = 8, 5

_FOLD: Final = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)


def _ascii(text: str) -> str:
    """German transliteration first (ü -> ue), then drop the remaining accents."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return decomposed.encode("ascii", "ignore").decode("ascii")


# --------------------------------------------------------------------------------------------
# Pure helpers: the true model
# --------------------------------------------------------------------------------------------


def _weight_matrix() -> np.ndarray:
    """(13, 8) true driver weights; rows follow COUNTRIES, columns ATTRIBUTES; rows sum to 1."""
    weights = np.zeros((len(COUNTRIES), len(ATTRIBUTES)))
    cost = ATTRIBUTES.index("total_cost_of_ownership")
    for c, top in enumerate(_TOP3):
        top_idx = [ATTRIBUTES.index(a) for a in top]
        weights[c, top_idx] = _TOP_WEIGHTS
        rest = [k for k in range(len(ATTRIBUTES)) if k not in top_idx and k != cost]
        rest = rest[c % len(rest) :] + rest[: c % len(rest)]
        weights[c, rest] = _REST_WEIGHTS
        weights[c, cost] = _COST_WEIGHT
    return weights


def true_driver_weights() -> pd.DataFrame:
    """True driver weights of the sample data.

    Returns
    -------
    pandas.DataFrame
        Index ``country`` (ISO alpha-2, ``COUNTRIES`` order), one column per attribute
        (``ATTRIBUTES`` order); each row sums to 1.

    Notes
    -----
    Likelihood to recommend is ``clip(round(7 + style_c + 1.6 (sum_k w_ck x_k - 7) + e), 0, 10)``
    with ``e ~ N(0, 0.9)``, so an OLS of LTR on the eight ratings estimates ``1.6 w_c``.
    """
    frame = pd.DataFrame(_weight_matrix(), index=pd.Index(COUNTRIES, name="country"))
    frame.columns = pd.Index(ATTRIBUTES, name="attribute")
    return frame


def true_top_drivers(k: int = 3) -> dict[str, tuple[str, ...]]:
    """The ``k`` attributes with the largest true weight per country, strongest first.

    Raises
    ------
    DataError
        ``k`` is not between 1 and the number of attributes (8).
    """
    if not 1 <= k <= len(ATTRIBUTES):
        raise DataError(f"true_top_drivers(k=...): expected 1..{len(ATTRIBUTES)}, found {k!r}")
    weights = _weight_matrix()
    order = np.argsort(-weights, axis=1, kind="stable")[:, :k]
    return {c: tuple(ATTRIBUTES[j] for j in order[i]) for i, c in enumerate(COUNTRIES)}


def _attribute_means() -> np.ndarray:
    """(13, 4, 8) mean latent attribute score by country, wave, attribute."""
    c = np.arange(len(COUNTRIES))[:, None, None]
    t = np.arange(len(WAVES))[None, :, None]
    wobble = 0.06 * np.sin(1.3 * c + 1.7 * t)  # small deterministic wave-to-wave movement
    means = np.asarray(_LEVEL)[:, None, None] + _ATTRIBUTE_OFFSET[None, None, :] + wobble
    means = np.broadcast_to(means, (len(COUNTRIES), len(WAVES), len(ATTRIBUTES))).copy()
    for event in _EVENTS:
        ci, ti = COUNTRIES.index(event["country"]), WAVES.index(event["wave"])
        if event["attribute"] is None:
            means[ci, ti, :] += event["shift"]
        else:
            means[ci, ti, ATTRIBUTES.index(event["attribute"])] += event["shift"]
    return means


def _simulate(
    rng: np.random.Generator,
    country: np.ndarray,
    wave: np.ndarray,
    competitor: np.ndarray,
    account_effect: np.ndarray,
) -> dict[str, np.ndarray]:
    """Draw ratings from the generative model (see the module docstring)."""
    n = country.size
    halo = account_effect + rng.normal(0.0, _HALO_SD, n)
    latent = (
        _attribute_means()[country, wave]
        - _COMPETITOR_GAP * competitor[:, None]
        + halo[:, None]
        + rng.normal(0.0, _SPECIFIC_SD, (n, len(ATTRIBUTES)))
    )
    x = np.clip(np.rint(latent), 1, 10).astype(np.int64)
    s = np.einsum("ij,ij->i", x.astype(float), _weight_matrix()[country])
    ltr_star = _expected_ltr(s, country) + rng.normal(0.0, _LTR_NOISE_SD, n)
    ltr = np.clip(np.rint(ltr_star), 0, 10).astype(np.int64)
    return {"x": x, "s": s, "ltr_star": ltr_star, "ltr": ltr}


def _expected_ltr(s: np.ndarray, country: np.ndarray) -> np.ndarray:
    """E[ltr* | ratings]: the model's likelihood to recommend before noise and rounding."""
    return _LTR_CENTER + np.asarray(_STYLE)[country] + _LTR_GAIN * (s - _LTR_CENTER)


# --------------------------------------------------------------------------------------------
# Accounts
# --------------------------------------------------------------------------------------------


def _accounts(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Accounts (one row each) and account x country pairs with sampling weights."""
    names, homes, spellings, country_lists = [], [], [], []
    for canonical, countries, variants in _SPECIAL_ACCOUNTS:
        names.append(canonical)
        homes.append(countries[0])
        spellings.append(variants)
        country_lists.append(countries)
    n_special = len(names)
    for home in _BIG:
        lang = _LANG_OF_HOME[home]
        industries, suffixes = _INDUSTRIES[lang], _SUFFIXES[home]
        for i, stem in enumerate(_STEMS[home]):
            base = f"{stem} {industries[i % len(industries)]}"
            suffix = suffixes[i % len(suffixes)]
            canonical = f"{base} {suffix}"
            punct = f"{base} {_SUFFIX_VARIANT.get(suffix, suffix.replace('.', ''))}"
            variants = [canonical, canonical.upper(), base, punct, _ascii(base)]
            names.append(canonical)
            homes.append(home)
            spellings.append(tuple(dict.fromkeys(variants)))
            country_lists.append((home,))
    n = len(names)
    # generic accounts get 0-3 further countries among the big ones (Gumbel top-k)
    n_extra = rng.choice(4, size=n, p=[0.45, 0.25, 0.18, 0.12])
    keys = rng.gumbel(size=(n, len(_BIG)))
    home_idx = np.array([_BIG.index(h) if h in _BIG else 0 for h in homes])
    keys[np.arange(n), home_idx] = -np.inf
    order = np.argsort(-keys, axis=1)
    for j in range(n_special, n):
        extra = tuple(_BIG[k] for k in order[j, : n_extra[j]])
        country_lists[j] = country_lists[j] + extra
    size = np.exp(rng.normal(0.0, 0.8, n))
    effect = rng.normal(0.0, _ACCOUNT_SD, n)
    rank = np.argsort(np.argsort(-size))
    segment = np.where(rank < n * 0.25, 0, np.where(rank < n * 0.6, 1, 2))
    segment = np.where(rng.random(n) < 0.12, 3, segment)
    # revenue-only accounts (never surveyed) and surveyed accounts left out of revenue.csv
    aliased = {canonical for _, canonical in ACCOUNT_ALIASES}
    if not aliased <= set(names):  # pragma: no cover - guards edits of the tables above
        raise RuntimeError(f"alias targets missing from the accounts: {aliased - set(names)}")
    generic = np.array([j for j in range(n_special, n) if names[j] not in aliased])
    picked = rng.choice(generic, size=_N_REVENUE_ONLY + _N_NOT_IN_REVENUE, replace=False)
    in_survey = np.ones(n, dtype=bool)
    in_survey[picked[:_N_REVENUE_ONLY]] = False
    in_revenue = np.ones(n, dtype=bool)
    in_revenue[picked[_N_REVENUE_ONLY:]] = False
    accounts = pd.DataFrame(
        {
            "account": names,
            "home": homes,
            "countries": country_lists,
            "spellings": spellings,
            "size": size,
            "loyalty_effect": effect,
            "segment": np.asarray(_SEGMENTS)[segment],
            "in_survey": in_survey,
            "in_revenue": in_revenue,
        }
    )
    pairs = accounts[["account", "countries", "size"]].explode("countries")
    pairs = pairs.rename(columns={"countries": "country"}).reset_index(names="account_id")
    pairs["weight"] = pairs["size"] * np.where(
        pairs["country"].to_numpy() == accounts["home"].to_numpy()[pairs["account_id"]], 2.0, 1.0
    )
    # account effects are centred within each country (weighted by its surveyed account mix) so
    # that a country's level follows _LEVEL whatever accounts the seed makes large there
    ids = pairs["account_id"].to_numpy()
    surveyed_weight = pairs["weight"].to_numpy() * in_survey[ids]
    raw = effect[ids]
    country_mean = (
        pd.Series(raw * surveyed_weight).groupby(pairs["country"].to_numpy()).sum()
        / pd.Series(surveyed_weight).groupby(pairs["country"].to_numpy()).sum()
    )
    pairs["effect"] = raw - country_mean.reindex(pairs["country"]).to_numpy()
    n_variants = accounts["spellings"].map(len).to_numpy()[pairs["account_id"]]
    first_choice = rng.random(len(pairs)) < 0.5
    pairs["primary"] = np.where(
        first_choice, 0, np.floor(rng.random(len(pairs)) * n_variants).astype(int)
    )
    return accounts, pairs.drop(columns="size")


# --------------------------------------------------------------------------------------------
# Small vectorized text helpers
# --------------------------------------------------------------------------------------------


def _names(rng: np.random.Generator, pools: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fake person names and example.com/.org e-mail local parts, by name pool."""
    n = pools.size
    display = np.empty(n, dtype=object)
    email = np.empty(n, dtype=object)
    first_draw, last_draw, kanji_draw = rng.random(n), rng.random(n), rng.random(n)
    domain = np.where(rng.random(n) < 0.7, "@example.com", "@example.org")
    for pool in np.unique(pools):
        rows = np.flatnonzero(pools == pool)
        first = np.asarray(_FIRST[pool], dtype=object)
        last = np.asarray(_LAST[pool], dtype=object)
        f = first[(first_draw[rows] * first.size).astype(int)]
        la = last[(last_draw[rows] * last.size).astype(int)]
        shown = f + " " + la
        if pool == "ja":
            kanji = kanji_draw[rows] < 0.25
            kf = np.array([_KANJI[v] for v in f[kanji]], dtype=object)
            kl = np.array([_KANJI[v] for v in la[kanji]], dtype=object)
            shown[kanji] = kl + " " + kf
        display[rows] = shown
        local = pd.Series(f + "." + la).map(_ascii).str.lower().str.replace(" ", "", regex=False)
        email[rows] = local.to_numpy(dtype=object)
    return display, email + domain


def _pick(rng: np.random.Generator, options: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    values = np.asarray([o[0] for o in options], dtype=object)
    p = np.asarray([o[1] for o in options])
    return values[rng.choice(values.size, size=n, p=p / p.sum())]


def _untrim(rng: np.random.Generator, values: np.ndarray, rate: float) -> np.ndarray:
    """Add leading/trailing blanks to a share of the non-empty cells; returns the changed mask."""
    hit = (values != "") & (rng.random(values.size) < rate)
    kind = rng.integers(0, 3, values.size)
    pad = np.where(kind == 0, " " + values, np.where(kind == 1, values + " ", "  " + values + " "))
    values[hit] = pad[hit]
    return hit


def _decompose(rng: np.random.Generator, values: np.ndarray, rate: float) -> np.ndarray:
    """Write a share of the cells whose NFD form differs in NFD; returns the changed mask."""
    series = pd.Series(values, dtype=object)
    nfd = series.map(lambda v: unicodedata.normalize("NFD", v)).to_numpy(dtype=object)
    hit = (nfd != values) & (rng.random(values.size) < rate)
    values[hit] = nfd[hit]
    return hit


def _capitalize(values: np.ndarray) -> np.ndarray:
    s = pd.Series(values, dtype=object).astype(str)
    return (s.str.slice(0, 1).str.upper() + s.str.slice(1)).to_numpy(dtype=object)


def _incidents(
    rng: np.random.Generator, x: np.ndarray, engaged: np.ndarray, sign: float
) -> np.ndarray:
    """(n, 6) CIT codes per position (0..12 attribute, 13 off-topic, -1 none).

    ``engaged`` respondents (promoters for likes, detractors for dislikes) write more often and
    list more incidents.
    """
    n = x.shape[0]
    present = rng.random(n) < np.where(engaged, 0.8, 0.5)
    many = rng.choice(np.arange(1, 7), size=n, p=[0.25, 0.30, 0.20, 0.12, 0.08, 0.05])
    few = rng.choice(np.arange(1, 7), size=n, p=[0.55, 0.27, 0.11, 0.04, 0.02, 0.01])
    count = np.where(present, np.where(engaged, many, few), 0)
    rating_idx = np.array([ATTRIBUTES.index(CIT_TO_RATING[a]) for a in _CIT])
    per_rating = np.bincount(rating_idx, minlength=len(ATTRIBUTES))[rating_idx]
    w = np.exp(sign * 0.8 * (x[:, rating_idx] - 7.0)) / per_rating
    w = np.column_stack([w, 0.04 * w.sum(axis=1)])  # occasional off-topic remark in a list
    keys = np.log(w) + rng.gumbel(size=w.shape)
    order = np.argsort(-keys, axis=1)[:, :6]
    codes = np.where(np.arange(6)[None, :] < count[:, None], order, -1)
    nothing = present & (rng.random(n) < 0.08)  # "nothing" / "no comment" as the only entry
    codes[nothing] = -1
    codes[nothing, 0] = len(_CIT)
    return codes


def _phrases(
    rng: np.random.Generator, codes: np.ndarray, lang: np.ndarray, polarity: str
) -> np.ndarray:
    """Phrase text per incident cell ("" where none); English phrases carry typos at times."""
    bank = PHRASE_BANK
    bank_code = bank["attribute"].map(lambda a: _CIT.index(a) if a else len(_CIT))
    bank_lang = bank["language"].map(_LANGS.index).to_numpy()
    sel = (bank["polarity"] == polarity).to_numpy()
    texts = np.full(codes.shape, "", dtype=object)
    cell_lang = np.broadcast_to(lang[:, None], codes.shape)
    key = np.where(codes >= 0, codes * len(_LANGS) + cell_lang, -1)
    draws = rng.random(codes.shape)
    typo = rng.random(codes.shape) < 0.1  # about half the phrases have a typo-able word
    for k in np.unique(key[key >= 0]):
        cand = np.flatnonzero(sel & (bank_code.to_numpy() * len(_LANGS) + bank_lang == k))
        cum = np.cumsum(bank["weight"].to_numpy()[cand])
        cells = key == k
        chosen = cand[np.searchsorted(cum, draws[cells] * cum[-1], side="right")]
        plain = bank["text"].to_numpy(dtype=object)[chosen]
        typoed = bank["typo"].to_numpy(dtype=object)[chosen]
        texts[cells] = np.where(typo[cells] & (k % len(_LANGS) == 0), typoed, plain)
    return texts


def _assemble(rng: np.random.Generator, texts: np.ndarray) -> np.ndarray:
    """Join incidents in one of the list styles the CIT splitter knows."""
    n = texts.shape[0]
    count = (texts != "").sum(axis=1)
    style = np.where(
        count <= 1,
        rng.choice(6, size=n, p=[0.7, 0.1, 0.05, 0.05, 0.0, 0.1]),
        rng.choice(6, size=n, p=[0.0, 0.3, 0.15, 0.15, 0.28, 0.12]),
    )
    separators = np.array(["", "\n", " ", "\n", "; ", "\n"], dtype=object)[style]
    out = np.full(n, "", dtype=object)
    first = _capitalize(texts[:, 0])
    period = np.where(rng.random(n) < 0.5, ".", "")
    for p in range(texts.shape[1]):
        prefixes = np.array(["", "- ", f"{p + 1}) ", f"{p + 1}. ", "", "• "], dtype=object)
        piece = prefixes[style] + texts[:, p]
        if p == 0:
            piece = np.where(style == 0, first + period, piece)
            out = np.where(count > 0, piece, out)
        else:
            out = np.where(count > p, out + separators + piece, out)
    return out


def _fmt_int(values: np.ndarray, blank: np.ndarray) -> np.ndarray:
    return np.where(blank, "", values.astype(np.int64).astype(str)).astype(object)


# --------------------------------------------------------------------------------------------
# Relationship survey
# --------------------------------------------------------------------------------------------


class _Design(NamedTuple):
    """Who answered when: one entry per response, in the order of the recorded date."""

    cell_counts: np.ndarray  # responses per (country, wave), before sorting
    country: np.ndarray  # index into COUNTRIES
    wave: np.ndarray  # index into WAVES
    competitor: np.ndarray  # True: the response rates a competitor's brand
    brand: np.ndarray
    account_id: np.ndarray  # row of ``accounts``
    pair_row: np.ndarray  # row of ``pairs`` (account in a country)
    recorded: np.ndarray  # datetime64[s]


class _Ratings(NamedTuple):
    """The true closed answers of every response, before any defect is injected."""

    x: np.ndarray  # (n, 8) attribute ratings
    ltr: np.ndarray  # likelihood to recommend, 0..10
    overall: np.ndarray
    loyalty: np.ndarray  # (n, 4), the cognitive item already reverse-coded
    importance: np.ndarray  # (n, 4) stated importance
    expectation: np.ndarray  # (n, 3)
    dk_x: np.ndarray  # (n, 8) "don't know" (exported as 99)
    dk_imp: np.ndarray  # (n, 4)
    dk_exp: np.ndarray  # (n, 3)


class _FreeText(NamedTuple):
    """Open answers and contact fields of every response."""

    lang: np.ndarray  # index into _LANGS
    like_codes: np.ndarray  # (n, 6) true CIT codes, see _incidents
    dislike_codes: np.ndarray
    like: np.ndarray
    dislike: np.ndarray
    complaint: np.ndarray
    permission: np.ndarray  # True: may be contacted
    contact_name: np.ndarray
    contact_email: np.ndarray


class _Defects(NamedTuple):
    """Rows given a defect (disjoint sets of the big countries' rows) and the answers as shown."""

    chosen: np.ndarray  # every row below
    empty_rows: np.ndarray
    speed_rows: np.ndarray
    straight_rows: np.ndarray
    oor_rows: np.ndarray  # an out-of-range value goes into one cell of each
    nonnum_rows: np.ndarray  # a non-numeric value goes into one cell of each
    is_empty: np.ndarray  # bool mask of empty_rows
    duration: np.ndarray  # seconds, speeders' and empty responses' replaced
    x_shown: np.ndarray  # attribute ratings as exported
    ltr_shown: np.ndarray
    dk_x: np.ndarray


def _relationship(
    rng: np.random.Generator, accounts: pd.DataFrame, pairs: pd.DataFrame
) -> tuple[pd.DataFrame, list[list[str]], dict, pd.DataFrame, dict]:
    """Export (string cells), header rows 2-3, defect records, incidents, model arrays.

    Every step draws from ``rng`` in turn, so their order is part of what a seed writes: a new
    draw goes after the last step (or into a stream of its own), never between two steps.
    """
    design = _design(rng, accounts, pairs)
    ratings = _ratings(rng, design, pairs)
    text = _free_text(rng, design.country, ratings.x, ratings.ltr)
    labels = _respondent_labels(rng, accounts, pairs, design)
    duration = _durations(rng, design.country.size)
    defects = _inject_defects(rng, design.country, ratings, duration)
    dollar_row = _dollar_row(design, ratings.ltr, text.lang, defects.is_empty)
    cols = _export_columns(rng, design, ratings, text, labels, defects, dollar_row)
    invalid = _invalidate_cells(cols, defects.oor_rows, defects.nonnum_rows)
    untrimmed, nfd = _dirty_text(rng, cols)
    dup_rows = _duplicate_rows(rng, design.country, defects.chosen, dollar_row)

    n = design.country.size
    layout = np.sort(np.concatenate([np.arange(n), dup_rows]), kind="stable")
    frame = pd.DataFrame({c: v[layout] for c, v in cols.items()})
    header2 = [_QUESTION_TEXT[c] for c in frame.columns]
    header3 = [_import_id(c) for c in frame.columns]
    incidents = _incident_table(cols["ResponseId"], text, defects.is_empty)
    truth = _defect_truth(
        cols["ResponseId"], defects, dup_rows, invalid, untrimmed, nfd, dollar_row
    )
    defect = np.zeros(n, dtype=bool)
    defect[defects.chosen] = True
    sample = {
        "country": design.country,
        "wave": design.wave,
        "competitor": design.competitor,
        "account_id": design.account_id,
        "ltr": ratings.ltr,
        "loyalty": ratings.loyalty,
        "analysable": ~design.competitor & ~defect,
        "cell_counts": design.cell_counts,
        "contact_email": cols["Q16"],  # as exported (empty: declined contact, or empty response)
    }
    return frame, [header2, header3], truth, incidents, sample


def _design(rng: np.random.Generator, accounts: pd.DataFrame, pairs: pd.DataFrame) -> _Design:
    """Cells, brand, account and recorded date of every response, sorted by that date."""
    n_cell = np.array(
        [
            [
                13 + rng.integers(0, 5)
                if c == "NA"
                else int(np.rint(_N_PER_WAVE[ci] * np.exp(rng.normal(0.0, 0.05))))
                for _t in WAVES
            ]
            for ci, c in enumerate(COUNTRIES)
        ]
    )
    country = np.repeat(np.repeat(np.arange(len(COUNTRIES)), len(WAVES)), n_cell.ravel())
    wave = np.repeat(np.tile(np.arange(len(WAVES)), len(COUNTRIES)), n_cell.ravel())
    n = country.size
    competitor = rng.random(n) < np.asarray(_COMPETITOR_SHARE)[country]
    brand = np.where(
        competitor,
        np.asarray(COMPETITORS, dtype=object)[rng.choice(3, size=n, p=[0.45, 0.35, 0.2])],
        OWN_BRAND,
    ).astype(object)
    surveyed = pairs[accounts["in_survey"].to_numpy()[pairs["account_id"]]]
    account_id = np.zeros(n, dtype=np.int64)
    pair_row = np.zeros(n, dtype=np.int64)
    for ci, c in enumerate(COUNTRIES):
        rows = np.flatnonzero(country == ci)
        cand = surveyed[surveyed["country"] == c]
        p = cand["weight"].to_numpy() / cand["weight"].sum()
        pick = rng.choice(len(cand), size=rows.size, p=p)
        account_id[rows] = cand["account_id"].to_numpy()[pick]
        pair_row[rows] = cand.index.to_numpy()[pick]
    days = (_WAVE_BOUNDS[wave + 1] - _WAVE_BOUNDS[wave]).astype(int)
    day = (rng.random(n) * days).astype(int)
    seconds = rng.integers(7 * 3600, 20 * 3600, n)
    recorded = (_WAVE_BOUNDS[wave] + day).astype("datetime64[s]") + seconds
    order = np.argsort(recorded, kind="stable")
    return _Design(
        cell_counts=n_cell,
        country=country[order],
        wave=wave[order],
        competitor=competitor[order],
        brand=brand[order],
        account_id=account_id[order],
        pair_row=pair_row[order],
        recorded=recorded[order],
    )


def _ratings(rng: np.random.Generator, design: _Design, pairs: pd.DataFrame) -> _Ratings:
    """Closed answers from the generative model (see the module docstring)."""
    country = design.country
    n = country.size
    effect = pairs["effect"].to_numpy()[design.pair_row]
    sim = _simulate(rng, country, design.wave, design.competitor, effect)
    x, ltr, ltr_star, s = sim["x"], sim["ltr"], sim["ltr_star"], sim["s"]
    overall = np.clip(np.rint(s + 0.15 + rng.normal(0.0, 0.85, n)), 1, 10).astype(np.int64)
    loyal = (ltr_star - 7.5) / 2.2
    loyalty = np.clip(
        np.rint(
            _LOYALTY_MEAN
            + _LOYALTY_LOADING * loyal[:, None]
            + rng.normal(0.0, _LOYALTY_NOISE_SD, (n, 4))
        ),
        1,
        10,
    ).astype(np.int64)
    loyalty[:, 2] = 11 - loyalty[:, 2]  # exported reverse-coded: "considering switching"
    general = rng.normal(0.0, 1.0, n)[:, None]
    importance = np.clip(
        np.rint(_IMPORTANCE_MEAN + 0.6 * general + rng.normal(0.0, 1.0, (n, 4))), 1, 10
    ).astype(np.int64)
    expect_shift = np.where(np.asarray(COUNTRIES)[country] == "JP", 0.4, 0.0)[:, None]
    expectation = np.clip(
        np.rint(
            8.0 + expect_shift + 0.5 * rng.normal(0.0, 1.0, (n, 1)) + rng.normal(0, 0.9, (n, 3))
        ),
        1,
        10,
    ).astype(np.int64)
    return _Ratings(
        x=x,
        ltr=ltr,
        overall=overall,
        loyalty=loyalty,
        importance=importance,
        expectation=expectation,
        dk_x=rng.random((n, 8)) < _DK_RATE,
        dk_imp=rng.random((n, 4)) < 0.01,
        dk_exp=rng.random((n, 3)) < 0.01,
    )


def _free_text(
    rng: np.random.Generator, country: np.ndarray, x: np.ndarray, ltr: np.ndarray
) -> _FreeText:
    """Likes and dislikes as CIT incidents, complaints, and contact details where permitted."""
    n = country.size
    lang = np.zeros(n, dtype=np.int64)
    for c, li in _LOCAL_LANG.items():
        rows = np.asarray(COUNTRIES)[country] == c
        lang = np.where(rows & (rng.random(n) < 0.3), li, lang)
    like_codes = _incidents(rng, x, ltr >= 9, +1.0)
    dislike_codes = _incidents(rng, x, ltr <= 6, -1.0)
    like_texts = _phrases(rng, like_codes, lang, "positive")
    dislike_texts = _phrases(rng, dislike_codes, lang, "negative")
    like = _assemble(rng, like_texts)
    dislike = _assemble(rng, dislike_texts)
    p_complaint = np.where(ltr <= 4, 0.22, np.where(ltr <= 6, 0.09, 0.04))
    has_complaint = rng.random(n) < p_complaint
    complaint = np.full(n, "", dtype=object)
    for li, code in enumerate(_LANGS):
        bank = np.asarray(_COMPLAINTS[code], dtype=object)
        rows = has_complaint & (lang == li)
        complaint[rows] = bank[rng.integers(0, bank.size, rows.sum())]
    permission = rng.random(n) < 0.55
    pools = np.asarray([_NAME_POOL[c] for c in COUNTRIES], dtype=object)[country]
    contact_name, contact_email = _names(rng, pools)
    return _FreeText(
        lang=lang,
        like_codes=like_codes,
        dislike_codes=dislike_codes,
        like=like,
        dislike=dislike,
        complaint=complaint,
        permission=permission,
        contact_name=np.where(permission, contact_name, "").astype(object),
        contact_email=np.where(permission, contact_email, "").astype(object),
    )


def _respondent_labels(
    rng: np.random.Generator, accounts: pd.DataFrame, pairs: pd.DataFrame, design: _Design
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Country and account as typed (spellings, aliases) and the segment, a few misfiled."""
    country, account_id = design.country, design.account_id
    n = country.size
    country_text = np.empty(n, dtype=object)
    for ci, c in enumerate(COUNTRIES):
        rows = np.flatnonzero(country == ci)
        country_text[rows] = _pick(rng, COUNTRY_SPELLINGS[c], rows.size)
    spell = accounts["spellings"].to_numpy()
    alias_of = {canonical: alias for alias, canonical in ACCOUNT_ALIASES}
    n_var = np.array([len(v) for v in spell])[account_id]
    variant = np.where(
        rng.random(n) < 0.75,
        pairs["primary"].to_numpy()[design.pair_row],
        np.floor(rng.random(n) * n_var).astype(int),
    )
    flat = np.array([v for vs in spell for v in vs], dtype=object)
    offsets = np.concatenate([[0], np.cumsum([len(v) for v in spell])[:-1]])
    account_text = flat[offsets[account_id] + variant]
    alias = accounts["account"].map(alias_of).fillna("").to_numpy(dtype=object)[account_id]
    use_alias = (alias != "") & (rng.random(n) < 0.1)
    account_text[use_alias] = alias[use_alias]
    segment = accounts["segment"].to_numpy(dtype=object)[account_id].copy()
    other = rng.random(n) < 0.04
    segment[other] = np.asarray(_SEGMENTS, dtype=object)[rng.integers(0, 4, other.sum())]
    return country_text, account_text, segment


def _durations(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds per response; none below half the median, so that speeders are unambiguous."""
    return np.rint(600.0 * np.exp(0.35 * np.clip(rng.normal(0, 1, n), -2.0, 3.5))).astype(np.int64)


def _inject_defects(
    rng: np.random.Generator, country: np.ndarray, ratings: _Ratings, duration: np.ndarray
) -> _Defects:
    """Pick disjoint rows of the big countries and turn them into the defects of the export."""
    n = country.size
    big_rows = np.flatnonzero(np.asarray(COUNTRIES)[country] != "NA")
    n_empty, n_speed = round(0.004 * n), round(0.02 * n)
    n_straight, n_oor, n_nonnum = round(0.015 * n), 30, 20
    chosen = rng.choice(big_rows, size=n_empty + n_speed + n_straight + n_oor + n_nonnum,
                        replace=False)  # fmt: skip
    cuts = np.cumsum([n_empty, n_speed, n_straight, n_oor])
    empty_rows, speed_rows, straight_rows, oor_rows, nonnum_rows = np.split(chosen, cuts)
    is_empty = np.zeros(n, dtype=bool)
    is_empty[empty_rows] = True
    duration = duration.copy()
    dk_x = ratings.dk_x.copy()
    # speeders answer at random, fast
    duration[speed_rows] = rng.integers(45, 171, speed_rows.size)
    x_shown = ratings.x.copy()
    x_shown[speed_rows] = rng.integers(1, 11, (speed_rows.size, 8))
    ltr_shown = ratings.ltr.copy()
    ltr_shown[speed_rows] = rng.integers(0, 11, speed_rows.size)
    dk_x[speed_rows] = False
    # straight-liners give the same rating to all eight attributes
    level = np.clip(np.rint(ratings.x[straight_rows].mean(axis=1)), 1, 10).astype(np.int64)
    x_shown[straight_rows] = level[:, None]
    dk_x[straight_rows] = False
    duration[empty_rows] = rng.integers(250, 901, empty_rows.size)
    return _Defects(
        chosen=chosen,
        empty_rows=empty_rows,
        speed_rows=speed_rows,
        straight_rows=straight_rows,
        oor_rows=oor_rows,
        nonnum_rows=nonnum_rows,
        is_empty=is_empty,
        duration=duration,
        x_shown=x_shown,
        ltr_shown=ltr_shown,
        dk_x=dk_x,
    )


def _dollar_row(design: _Design, ltr: np.ndarray, lang: np.ndarray, is_empty: np.ndarray) -> int:
    """The one respondent (a US detractor in 2026-Q2) whose complaint quotes dollar prices."""
    us_det = np.flatnonzero(
        (np.asarray(COUNTRIES)[design.country] == "US") & (design.wave == 2) & (ltr <= 4)
        & ~is_empty & ~design.competitor & (lang == 0)
    )  # fmt: skip
    return int(us_det[0])


def _export_columns(
    rng: np.random.Generator,
    design: _Design,
    ratings: _Ratings,
    text: _FreeText,
    labels: tuple[np.ndarray, np.ndarray, np.ndarray],
    defects: _Defects,
    dollar_row: int,
) -> dict[str, np.ndarray]:
    """The export's columns as string cells, in the export's order (empty responses blank)."""
    n = design.country.size
    is_empty, duration = defects.is_empty, defects.duration
    cols: dict[str, np.ndarray] = {}
    started = design.recorded - duration.astype("timedelta64[s]")
    as_text = np.vectorize(lambda d: d.replace("T", " "), otypes=[object])
    cols["StartDate"] = as_text(np.datetime_as_string(started, unit="s"))
    cols["EndDate"] = as_text(np.datetime_as_string(design.recorded, unit="s"))
    cols["Status"] = np.full(n, "IP Address", dtype=object)
    progress = np.full(n, 100, dtype=np.int64)
    progress[defects.empty_rows] = rng.integers(2, 16, defects.empty_rows.size)
    cols["Progress"] = progress.astype(str).astype(object)
    cols["Duration (in seconds)"] = duration.astype(str).astype(object)
    cols["Finished"] = np.where(is_empty, "False", "True").astype(object)
    cols["RecordedDate"] = cols["EndDate"].copy()
    alphabet = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
    ids = alphabet[rng.integers(0, alphabet.size, (n, 15))].view("<U15").ravel()
    if np.unique(ids).size != n:  # pragma: no cover - 62**15 ids; a clash means a broken rng
        raise RuntimeError("ResponseId collision in the synthetic export")
    cols["ResponseId"] = np.char.add("R_", ids).astype(object)
    cols["Q1"], cols["Q2"], cols["Q3"] = labels
    cols["Q4"] = design.brand
    cols["Q5"] = _fmt_int(defects.ltr_shown, is_empty)
    cols["Q6"] = _fmt_int(ratings.overall, is_empty)
    for k in range(8):
        value = np.where(defects.dk_x[:, k], 99, defects.x_shown[:, k])
        cols[f"Q7_{k + 1}"] = _fmt_int(value, is_empty)
    for k in range(4):
        value = np.where(ratings.dk_imp[:, k], 99, ratings.importance[:, k])
        cols[f"Q8_{k + 1}"] = _fmt_int(value, is_empty)
    for k in range(3):
        value = np.where(ratings.dk_exp[:, k], 99, ratings.expectation[:, k])
        cols[f"Q10_{k + 1}"] = _fmt_int(value, is_empty)
    for k in range(4):
        cols[f"Q9_{k + 1}"] = _fmt_int(ratings.loyalty[:, k], is_empty)
    blank = np.full(n, "", dtype=object)
    cols["Q11"] = np.where(is_empty, blank, text.like)
    cols["Q12"] = np.where(is_empty, blank, text.dislike)
    complaint = text.complaint.copy()
    complaint[is_empty] = ""
    complaint[dollar_row] = _DOLLAR_COMPLAINT
    cols["Q13"] = complaint
    cols["Q14"] = np.where(is_empty, "", np.where(text.permission, "Yes", "No")).astype(object)
    cols["Q15"] = np.where(is_empty, blank, text.contact_name)
    cols["Q16"] = np.where(is_empty, blank, text.contact_email)
    return cols


def _invalidate_cells(
    cols: dict[str, np.ndarray], oor_rows: np.ndarray, nonnum_rows: np.ndarray
) -> dict[str, list[dict[str, str]]]:
    """Write out-of-range and non-numeric values into ``cols`` (in place); returns the cells."""
    oor_specs = (
        [("Q5", "11")] * 5 + [("Q5", "12")] * 5 + [("Q6", "0")] * 3 + [("Q6", "11")] * 2
        + [(f"Q7_{k}", "0") for k in (1, 2, 3, 4, 5)] + [(f"Q7_{k}", "11") for k in (5, 6, 7, 8, 3)]
        + [("Q9_1", "0"), ("Q9_2", "0"), ("Q9_4", "0")] + [("Q8_1", "11"), ("Q8_2", "11")]
    )  # fmt: skip
    nonnum_specs = (
        [("Q5", "n/a"), ("Q5", "ten"), ("Q5", "--")] * 2
        + [("Q6", "n/a"), ("Q6", "--"), ("Q6", "ten"), ("Q6", "n/a")]
        + [(f"Q7_{k}", v) for k, v in zip((1, 2, 3, 4, 5, 6, 7, 8, 4, 6),
                                            ("n/a", "--", "ten", "n/a", "--", "n/a", "ten", "--",
                                             "--", "n/a"), strict=True)]
    )  # fmt: skip
    invalid: dict[str, list[dict[str, str]]] = {"out_of_range": [], "non_numeric": []}
    for kind, rows, specs in (
        ("out_of_range", oor_rows, oor_specs),
        ("non_numeric", nonnum_rows, nonnum_specs),
    ):
        for r, (col, value) in zip(rows, specs, strict=True):
            cols[col][r] = value
            invalid[kind].append({"response_id": cols["ResponseId"][r], "column": col,
                                  "value": value})  # fmt: skip
    return invalid


def _dirty_text(
    rng: np.random.Generator, cols: dict[str, np.ndarray]
) -> tuple[dict[str, int], dict[str, int]]:
    """Untrimmed and NFD text cells, written into ``cols`` (in place); returns counts by column."""
    untrimmed = {
        c: int(_untrim(rng, cols[c], 0.02).sum()) for c in ("Q1", "Q2", "Q11", "Q12", "Q15")
    }
    nfd = {
        c: int(_decompose(rng, cols[c], 0.25).sum())
        for c in ("Q1", "Q2", "Q11", "Q12", "Q13", "Q15")
    }
    return untrimmed, nfd


def _duplicate_rows(
    rng: np.random.Generator, country: np.ndarray, chosen: np.ndarray, dollar_row: int
) -> np.ndarray:
    """Rows re-submitted as exact duplicates: clean rows of the big countries, sorted."""
    n = country.size
    clean = np.ones(n, dtype=bool)
    clean[chosen] = False
    clean &= np.asarray(COUNTRIES)[country] != "NA"
    clean[dollar_row] = False
    return np.sort(rng.choice(np.flatnonzero(clean), size=round(0.005 * n), replace=False))


def _incident_table(
    response_ids: np.ndarray, text: _FreeText, is_empty: np.ndarray
) -> pd.DataFrame:
    """Incidents of every distinct response (for hand codes and the true CIT codes)."""
    incident_parts = []
    for field, codes in (("like", text.like_codes), ("dislike", text.dislike_codes)):
        r, p = np.nonzero(codes >= 0)
        incident_parts.append(
            pd.DataFrame(
                {
                    "row": r,
                    "response_id": response_ids[r],
                    "field": field,
                    "position": p + 1,
                    "attribute": np.append(np.asarray(_CIT, dtype=object), "")[codes[r, p]],
                }
            )
        )
    incidents = pd.concat(incident_parts, ignore_index=True)
    return incidents[~is_empty[incidents["row"].to_numpy()]]


def _defect_truth(
    ids_of: np.ndarray,
    defects: _Defects,
    dup_rows: np.ndarray,
    invalid: dict[str, list[dict[str, str]]],
    untrimmed: dict[str, int],
    nfd: dict[str, int],
    dollar_row: int,
) -> dict:
    """The ``defects`` section of ground_truth.json: counts, response ids and rules."""
    is_empty, x_shown = defects.is_empty, defects.x_shown
    straight_detect = (
        (x_shown == x_shown[:, :1]).all(axis=1) & ~defects.dk_x.any(axis=1) & ~is_empty
    )
    return {
        "duplicates": _listed(
            ids_of, dup_rows, "exact copy of a whole row, same ResponseId, adjacent"
        ),
        "empty": _listed(
            ids_of, defects.empty_rows, "Q5..Q16 blank, Finished False, Progress < 20"
        ),
        "speeders": _listed(
            ids_of,
            defects.speed_rows,
            "duration 45..170 s; every other duration >= 0.5 x median "
            "(about 600 s); ratings of speeders are random",
        ),
        "straight_liners": {
            "count": int(straight_detect[~is_empty].sum()),
            "injected": int(defects.straight_rows.size),
            "response_ids": sorted(ids_of[straight_detect].tolist()),
            "rule": "the eight Q7 attributes answered with one value (no 99); injected ones "
            "plus those that occur naturally",
        },
        "out_of_range": {"count": int(defects.oor_rows.size), "cells": invalid["out_of_range"]},
        "non_numeric": {"count": int(defects.nonnum_rows.size), "cells": invalid["non_numeric"]},
        "untrimmed_cells": untrimmed,
        "nfd_cells": nfd,
        "dollar_complaint_response_id": str(ids_of[dollar_row]),
        "note": "counts are of distinct responses; duplicates copy clean rows only",
    }


def _listed(ids_of: np.ndarray, rows: np.ndarray, rule: str) -> dict:
    return {"count": int(rows.size), "response_ids": sorted(ids_of[rows].tolist()), "rule": rule}


_QUESTION_TEXT: Final[dict[str, str]] = {
    "StartDate": "Start Date",
    "EndDate": "End Date",
    "Status": "Response Type",
    "Progress": "Progress",
    "Duration (in seconds)": "Duration (in seconds)",
    "Finished": "Finished",
    "RecordedDate": "Recorded Date",
    "ResponseId": "Response ID",
    "Q1": "In which country are you located?",
    "Q2": "Which company do you work for?",
    "Q3": "Which segment best describes your organization?",
    "Q4": "Who is your main supplier of IT infrastructure?",
    "Q5": "How likely is it that you would recommend your supplier to a colleague or business "
    "partner? (0 = not at all likely, 10 = extremely likely)",
    "Q6": "Overall, how satisfied are you with your supplier? (1 = very dissatisfied, "
    "10 = very satisfied)",
    **{
        f"Q7_{k + 1}": "How satisfied are you with your supplier on each of the following? "
        f"(99 = don't know) - {label}"
        for k, label in enumerate(_ATTRIBUTE_LABELS)
    },
    **{
        f"Q8_{k + 1}": "How important is each of the following when you choose a supplier? - "
        + _ATTRIBUTE_LABELS[ATTRIBUTES.index(a)]
        for k, a in enumerate(_IMPORTANCE)
    },
    **{
        f"Q10_{k + 1}": "What level do you expect from a supplier on each of the following? - "
        + _ATTRIBUTE_LABELS[ATTRIBUTES.index(a)]
        for k, a in enumerate(_EXPECTATION)
    },
    "Q9_1": "How much do you agree with the following statements? - I feel attached to my supplier",
    "Q9_2": "How much do you agree with the following statements? - I intend to keep buying from "
    "my supplier",
    "Q9_3": "How much do you agree with the following statements? - I am considering switching "
    "supplier",
    "Q9_4": "How much do you agree with the following statements? - I recommend my supplier to "
    "others",
    "Q11": "What do you like about your supplier? Please list each point.",
    "Q12": "What do you dislike, or what should your supplier improve? Please list each point.",
    "Q13": "Is there a complaint you would like us to follow up on?",
    "Q14": "May we contact you about your answers?",
    "Q15": "Your name",
    "Q16": "Your e-mail address",
}
_META_IMPORT: Final = {
    "StartDate": ("startDate", True),
    "EndDate": ("endDate", True),
    "Status": ("status", False),
    "Progress": ("progress", False),
    "Duration (in seconds)": ("duration", False),
    "Finished": ("finished", False),
    "RecordedDate": ("recordedDate", True),
    "ResponseId": ("_recordId", False),
}
_TEXT_ENTRY: Final = ("Q1", "Q2", "Q11", "Q12", "Q13", "Q15", "Q16")


def _import_id(column: str) -> str:
    if column in _META_IMPORT:
        key, tz = _META_IMPORT[column]
        spec = {"ImportId": key, "timeZone": "Europe/Berlin"} if tz else {"ImportId": key}
    elif column in _TEXT_ENTRY:
        spec = {"ImportId": f"QID{column[1:]}_TEXT"}
    else:
        spec = {"ImportId": f"QID{column[1:]}"}
    return json.dumps(spec, separators=(",", ":"))


# --------------------------------------------------------------------------------------------
# Transaction survey, revenue, contact master, hand codes
# --------------------------------------------------------------------------------------------

_PRODUCTS: Final = ("Edge Servers", "Storage Arrays", "Network Switches", "Managed Services")
_N_TICKETS: Final = 9000


def _transactions(
    rng: np.random.Generator, accounts: pd.DataFrame, pairs: pd.DataFrame
) -> pd.DataFrame:
    n = _N_TICKETS
    share = np.asarray(_N_PER_WAVE, dtype=float) / np.sum(_N_PER_WAVE)
    country = rng.choice(len(COUNTRIES), size=n, p=share)
    account = np.empty(n, dtype=object)
    effect = np.zeros(n)
    for ci, c in enumerate(COUNTRIES):
        rows = np.flatnonzero(country == ci)
        cand = pairs[pairs["country"] == c]
        pick = rng.choice(len(cand), size=rows.size, p=cand["weight"] / cand["weight"].sum())
        ids = cand["account_id"].to_numpy()[pick]
        account[rows] = accounts["account"].to_numpy(dtype=object)[ids]
        effect[rows] = accounts["loyalty_effect"].to_numpy()[ids]
    product = rng.choice(len(_PRODUCTS), size=n, p=[0.35, 0.25, 0.25, 0.15])
    level = (np.asarray(_LEVEL) - np.mean(_LEVEL)) / np.std(_LEVEL)
    z = (
        rng.normal(0.0, 1.0, n)
        + np.array([0.0, -0.1, 0.05, -0.2])[product]
        + 0.15 * level[country]
        + 0.4 * effect
    )
    cuts = np.quantile(z, [0.05, 0.10, 0.20, 0.45])  # 1-2: 10 %, 3: 10 %, 4: 25 %, 5: 55 %
    csat = 1 + np.searchsorted(cuts, z)
    seconds = rng.integers(0, int((_WAVE_BOUNDS[-1] - _WAVE_BOUNDS[0]).astype(int)) * 86400, n)
    created = np.sort(_WAVE_BOUNDS[0].astype("datetime64[s]") + seconds)
    ticket = 4711 + np.cumsum(rng.integers(1, 12, n)) - 1
    has_comment = rng.random(n) < np.where(csat <= 2, 0.5, np.where(csat == 3, 0.3, 0.25))
    codes = np.asarray(COUNTRIES)[country]
    local = np.array([_LANGS[_LOCAL_LANG.get(c, 0)] for c in codes], dtype=object)
    local = np.where(rng.random(n) < 0.3, local, "en")
    tier = np.where(csat <= 2, "low", np.where(csat == 3, "mid", "high")).astype(object)
    comment = np.full(n, "", dtype=object)
    draw = rng.random(n)
    for lang in ("en", "de", "fr", "ja"):
        for level_key in ("high", "mid", "low"):
            if lang == "en":
                bank = _TICKET_COMMENTS[level_key]
            else:  # local comments exist for good and bad tickets only
                bank = _TICKET_COMMENTS[f"{lang}_{'low' if level_key == 'low' else 'high'}"]
            hit = has_comment & (local == lang) & (tier == level_key)
            comment[hit] = np.asarray(bank, dtype=object)[(draw[hit] * len(bank)).astype(int)]
    contact_ok = rng.random(n) < 0.6
    pools = np.asarray([_NAME_POOL[c] for c in COUNTRIES], dtype=object)[country]
    name, email = _names(rng, pools)
    return pd.DataFrame(
        {
            "ticket_id": np.char.zfill(ticket.astype(str), 7),
            "created_at": np.datetime_as_string(created, unit="s"),
            "region": np.asarray([_REGION[c] for c in COUNTRIES], dtype=object)[country],
            "country": codes,
            "account": account,
            "product": np.asarray(_PRODUCTS, dtype=object)[product],
            "csat": csat.astype(str),
            "comment": comment,
            "contact_ok": np.where(contact_ok, "Y", "N"),
            "contact_name": np.where(contact_ok, name, ""),
            "contact_email": np.where(contact_ok, email, ""),
        }
    )


def _revenue(
    rng: np.random.Generator, accounts: pd.DataFrame, pairs: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray]:
    """Revenue by account, country and year; growth follows the account's loyalty effect."""
    growth = (
        0.03 + 0.25 * accounts["loyalty_effect"].to_numpy() + rng.normal(0.0, 0.03, len(accounts))
    )
    rows = pairs[accounts["in_revenue"].to_numpy()[pairs["account_id"]]].copy()
    ids = rows["account_id"].to_numpy()
    base = (
        250_000.0
        * accounts["size"].to_numpy()[ids]
        * (rows["weight"].to_numpy() / accounts["size"].to_numpy()[ids])
        * np.exp(rng.normal(0.0, 0.35, len(rows)))
    )
    later = base * (1.0 + growth[ids]) * np.exp(rng.normal(0.0, 0.02, len(rows)))
    frame = pd.DataFrame(
        {
            "account": np.tile(accounts["account"].to_numpy(dtype=object)[ids], 2),
            "country": np.tile(rows["country"].to_numpy(dtype=object), 2),
            "year": np.repeat([2025, 2026], len(rows)),
            "revenue": np.concatenate([base, later]),
        }
    ).sort_values(["account", "country", "year"], kind="stable")
    frame["revenue_usd"] = np.char.mod("%.2f", np.round(frame["revenue"].to_numpy(), 2))
    frame["year"] = frame["year"].astype(str)
    return frame.drop(columns="revenue").reset_index(drop=True), growth


_N_CONTACTS: Final = 5820
_N_CONTACT_DUPLICATES: Final = 180
_SURVEY_CUTOFF: Final = np.datetime64("2026-10-01")


def _contacts(
    rng: np.random.Generator, accounts: pd.DataFrame, pairs: pd.DataFrame, named: set[str]
) -> tuple[pd.DataFrame, dict[str, int]]:
    w = pairs["weight"].to_numpy()
    per_pair = 3 + rng.multinomial(_N_CONTACTS - 3 * len(pairs), w / w.sum())
    ids = np.repeat(pairs["account_id"].to_numpy(), per_pair)
    country = np.repeat(pairs["country"].to_numpy(dtype=object), per_pair)
    n = ids.size
    pools = np.array([_NAME_POOL[c] for c in country], dtype=object)
    name, email = _names(rng, pools)
    parts = pd.Series(email, dtype=object).str.partition("@")
    local, domain = parts[0].to_numpy(dtype=object), parts[2].to_numpy(dtype=object)
    k = pd.Series(email).groupby(email).cumcount().to_numpy()
    email = np.where(k > 0, local + k.astype(str) + "@" + domain, email).astype(object)
    last = np.full(n, "", dtype=object)
    kind = rng.random(n)
    recent = kind < 0.2
    older = (kind >= 0.2) & (kind < 0.6)
    recent_day = _SURVEY_CUTOFF - rng.integers(2, 89, n)  # 2026-07-04 .. 2026-09-29
    older_day = np.datetime64("2025-01-01") + rng.integers(0, 540, n)  # up to 2026-06-24
    last[recent] = np.datetime_as_string(recent_day[recent], unit="D")
    last[older] = np.datetime_as_string(older_day[older], unit="D")
    dns = rng.random(n) < 0.05
    frame = pd.DataFrame(
        {
            "account": accounts["account"].to_numpy(dtype=object)[ids],
            "country": country,
            "region": np.array([_REGION[c] for c in country], dtype=object),
            "segment": accounts["segment"].to_numpy(dtype=object)[ids],
            "contact_name": name,
            "email": email,
            "last_surveyed": last,
            "do_not_survey": np.where(dns, "Y", "N"),
        }
    )
    frame["named_account"] = np.where(frame["account"].isin(named), "Y", "N")
    # duplicate contacts: the same person entered twice, e-mail differing in case/whitespace
    dup = rng.choice(n, size=_N_CONTACT_DUPLICATES, replace=False)
    copies = frame.iloc[dup].copy()
    style = rng.integers(0, 4, dup.size)
    mail = copies["email"].to_numpy(dtype=object)
    title = pd.Series(mail).str.title().to_numpy(dtype=object)
    copies["email"] = np.select(
        [style == 0, style == 1, style == 2],
        [np.char.upper(mail.astype(str)).astype(object), " " + mail, title],
        mail + " ",
    )
    copies["last_surveyed"] = ""
    frame = pd.concat([frame, copies], ignore_index=True)
    frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
    frame.insert(0, "contact_id", [f"CT{i:06d}" for i in range(1, len(frame) + 1)])
    stats = {
        "rows": len(frame),
        "duplicate_contacts": _N_CONTACT_DUPLICATES,
        "do_not_survey": int((frame["do_not_survey"] == "Y").sum()),
        "surveyed_last_90_days": int((frame["last_surveyed"] >= str(_SURVEY_CUTOFF - 90)).sum()),
    }
    return frame, stats


#: Invitation probability of a contact-master contact who did not answer: per region, lowered
#: for larger accounts (log size), so that small accounts answer less often (see _invitations).
_INVITE_BASE: Final = {"AMER": 0.93, "EMEA": 0.88, "APJ": 0.80}
_INVITE_SIZE_SLOPE: Final = 0.08
#: The waves whose deployment list invitations.csv holds (all are drawn, in the same order).
_INVITED_WAVES: Final = WAVES[-1:]


def _invitations(
    rng: np.random.Generator, accounts: pd.DataFrame, contacts: pd.DataFrame, sample: dict
) -> tuple[pd.DataFrame, dict[str, object]]:
    """The deployment lists of the waves (invitations.csv: the latest, :data:`_INVITED_WAVES`)
    and their counts for the README.

    Per wave: (1) one invitation per distinct e-mail left by a respondent of the wave (ids
    ``CR`` + number of the address among all respondents' addresses); (2) one per respondent who
    left no e-mail (declined contact, or an empty response): invited like the others, with an
    address of their own that their answer does not carry, so it cannot be linked (ids continue
    the ``CR`` numbering); (3) contact-master contacts who did not answer: a valid address, not
    opted out, one record per person (smallest id), accounts that are surveyed, address not
    already invited in the wave, each invited with probability
    ``clip(_INVITE_BASE[region] - _INVITE_SIZE_SLOPE * log(size of the account), 0.5, 1)``.
    Invitations are sent on the first day of the wave. Drawn from a stream of its own.
    """
    waves = np.asarray(WAVES, dtype=object)[sample["wave"]]
    account_id = sample["account_id"]
    country = np.asarray(COUNTRIES, dtype=object)[sample["country"]]
    email = pd.Series(sample["contact_email"], dtype=object).str.strip()
    key = email.str.casefold()
    has = email.ne("").to_numpy()
    first = pd.DataFrame({"wave": waves, "key": key, "row": np.arange(waves.size)})[has]
    first = first.drop_duplicates(["wave", "key"])  # first response of each address in a wave
    rows = first["row"].to_numpy()
    numbers = {k: i + 1 for i, k in enumerate(sorted(set(first["key"])))}
    linked = pd.DataFrame(
        {
            "wave": waves[rows],
            "contact_id": [f"CR{numbers[k]:06d}" for k in first["key"]],
            "email": email.to_numpy(dtype=object)[rows],
            "account_id": account_id[rows],
            "country": country[rows],
        }
    )
    silent = np.flatnonzero(~has)
    pools = np.asarray([_NAME_POOL[c] for c in country[silent]], dtype=object)
    _, generated = _names(rng, pools)
    parts = pd.Series(generated, dtype=object).str.partition("@")
    serial = np.arange(len(numbers) + 1, len(numbers) + 1 + silent.size)
    unlinked = pd.DataFrame(
        {
            "wave": waves[silent],
            "contact_id": np.char.mod("CR%06d", serial),
            "email": (parts[0] + ".r" + serial.astype(str) + "@" + parts[2]).to_numpy(dtype=object),
            "account_id": account_id[silent],
            "country": country[silent],
        }
    )
    master = contacts.assign(key=contacts["email"].str.strip().str.casefold())
    valid = master["key"].str.match(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
    index_of = {name: j for j, name in enumerate(accounts["account"])}
    master["account_id"] = master["account"].map(index_of).to_numpy()
    surveyed = accounts["in_survey"].to_numpy()[master["account_id"].to_numpy()]
    pool = master[valid & master["do_not_survey"].eq("N") & surveyed]
    pool = pool.sort_values("contact_id").drop_duplicates("key")
    size = accounts["size"].to_numpy()[pool["account_id"].to_numpy()]
    p = np.clip(
        pool["region"].map(_INVITE_BASE).to_numpy(float) - _INVITE_SIZE_SLOPE * np.log(size),
        0.5,
        1.0,
    )
    draws = rng.random((len(WAVES), len(pool)))  # one per wave and contact
    others = []
    for t, wave in enumerate(WAVES):  # four waves
        taken = set(first.loc[first["wave"].eq(wave), "key"])
        keep = (draws[t] < p) & ~pool["key"].isin(taken).to_numpy()
        chosen = pool.loc[keep, ["contact_id", "email", "account_id", "country"]]
        others.append(chosen.assign(wave=wave))
    frame = pd.concat([linked, unlinked, *others], ignore_index=True)
    ids = frame["account_id"].to_numpy()
    wave_start = dict(zip(WAVES, np.datetime_as_string(_WAVE_BOUNDS[:-1], unit="D"), strict=True))
    out = pd.DataFrame(
        {
            "wave": frame["wave"],
            "contact_id": frame["contact_id"],
            "email": frame["email"],
            "account": accounts["account"].to_numpy(dtype=object)[ids],
            "country": frame["country"],
            "region": frame["country"].map(_REGION),
            "segment": accounts["segment"].to_numpy(dtype=object)[ids],
            "invited_at": frame["wave"].map(wave_start),
        }
    ).sort_values(["wave", "contact_id"], kind="stable", ignore_index=True)
    # only the latest list is written: the four would take data/raw past its 10 MB budget
    kept = frame["wave"].isin(_INVITED_WAVES).to_numpy()
    out = out[out["wave"].isin(_INVITED_WAVES)].reset_index(drop=True)
    n_linked = int(kept[: len(linked)].sum())
    n_unlinked = int(kept[len(linked) : len(linked) + len(unlinked)].sum())
    stats = {
        "rows": len(out),
        "linked": n_linked,
        "unlinked": n_unlinked,
        "measured_rate": n_linked / len(out),
        "true_rate": (n_linked + n_unlinked) / len(out),
    }
    return out, stats


_N_HAND_CODED: Final = 350  # per field (likes, dislikes)
_CODER_ACCURACY: Final = {"coder_a": 0.92, "coder_b": 0.85}


def _hand_codes(
    rng: np.random.Generator, incidents: pd.DataFrame, exclude_ids: np.ndarray
) -> tuple[pd.DataFrame, dict[str, str], dict[str, float]]:
    """Two coders' codes of a sample of incidents; the truth is the phrase bank's attribute."""
    pool = incidents[~incidents["response_id"].isin(exclude_ids)]
    parts = []
    for field in ("like", "dislike"):
        sub = pool[pool["field"] == field]
        parts.append(sub.iloc[np.sort(rng.choice(len(sub), _N_HAND_CODED, replace=False))])
    sample = pd.concat(parts).sort_values(
        ["row", "field", "position"], ascending=[True, False, True]
    )
    sample = sample.reset_index(drop=True)
    incident_id = (
        sample["response_id"] + "|" + sample["field"] + "|" + sample["position"].astype(str)
    ).to_numpy(dtype=object)
    codes = np.append(np.asarray(_CIT, dtype=object), "")
    truth = sample["attribute"].map(lambda a: len(_CIT) if a == "" else _CIT.index(a)).to_numpy()
    benefit_of = np.array(
        [next(b for b, attrs in enumerate(CIT_TAXONOMY.values()) if a in attrs) for a in _CIT]
        + [-1]
    )
    m = len(sample)
    only = rng.choice(m, size=18, replace=False)
    rows, agreement = [], {}
    for coder_i, (coder, accuracy) in enumerate(_CODER_ACCURACY.items()):
        wrong = rng.random(m) >= accuracy
        sibling = rng.random(m) < 0.6
        alt = rng.integers(0, len(codes) - 1, m)
        alt = np.where(alt >= truth, alt + 1, alt)  # any other code, "" included
        # a sibling in the same benefit where one exists
        sib = np.full(m, -1)
        for t in np.unique(truth[truth < len(_CIT)]):
            siblings = np.flatnonzero(benefit_of[:-1] == benefit_of[t])
            siblings = siblings[siblings != t]
            if siblings.size:
                hit = truth == t
                sib[hit] = siblings[rng.integers(0, siblings.size, hit.sum())]
        given = np.where(wrong, np.where(sibling & (sib >= 0), sib, alt), truth)
        agreement[coder] = float(np.mean(given == truth))
        keep = np.ones(m, dtype=bool)
        keep[only[coder_i * 12 :] if coder_i == 0 else only[:12]] = False  # 12 a-only, 6 b-only
        extra = keep & (rng.random(m) < 0.03) & (given < len(_CIT))
        second = (given + 1 + rng.integers(0, len(_CIT) - 1, m)) % len(_CIT)
        rows.append(
            pd.DataFrame(
                {
                    "order": np.arange(m)[keep],
                    "incident_id": incident_id[keep],
                    "coder": coder,
                    "attribute": codes[given[keep]],
                }
            )
        )
        rows.append(
            pd.DataFrame(
                {
                    "order": np.arange(m)[extra],
                    "incident_id": incident_id[extra],
                    "coder": coder,
                    "attribute": codes[second[extra]],
                }
            )
        )
    frame = pd.concat(rows).sort_values(["order", "coder", "attribute"], kind="stable")
    truth_map = dict(zip(incident_id.tolist(), codes[truth].tolist(), strict=True))
    return frame.drop(columns="order").reset_index(drop=True), truth_map, agreement


# --------------------------------------------------------------------------------------------
# Organisation: business units, functions, business processes and their owners
# --------------------------------------------------------------------------------------------

#: Business units (code -> label); the last one is small: too few respondents for a report.
_BUSINESS_UNITS: Final = {
    "enterprise_storage": "Enterprise Storage", "compute": "Compute", "networking": "Networking",
    "services": "Services", "edge_labs": "Edge Labs",
}  # fmt: skip
_UNIT_SHARE: Final = (0.3, 0.3, 0.2, 0.2)  # of the accounts in the four large units
_FUNCTIONS: Final = {
    "storage": "Storage", "servers": "Servers", "networking": "Networking", "support": "Support",
}  # fmt: skip
#: Product -> function; the last product is new and has no tickets yet.
_PRODUCT_FUNCTION: Final = {
    "Edge Servers": "servers", "Storage Arrays": "storage", "Network Switches": "networking",
    "Managed Services": "support", "Edge Gateways": "networking",
}  # fmt: skip
_BUSINESS_PROCESSES: Final = {
    "product_engineering": "Product engineering", "quote_to_contract": "Quote to contract",
    "issue_to_resolution": "Issue to resolution", "field_service": "Field service",
    "order_to_cash": "Order to cash", "customer_relationship": "Customer relationship",
}  # fmt: skip
_ATTRIBUTE_PROCESS: Final = {
    "product_quality": "product_engineering", "total_cost_of_ownership": "quote_to_contract",
    "post_sales_support": "issue_to_resolution", "on_site_service": "field_service",
    "delivery": "order_to_cash", "invoicing_accuracy": "order_to_cash",
    "ease_of_ordering": "order_to_cash", "account_management": "customer_relationship",
}  # fmt: skip
_TWO_UNIT_ACCOUNTS: Final = 4  # Acme Holdings and three drawn ones belong to two units
_SMALL_UNIT_ACCOUNTS, _SMALL_UNIT_MAX = 4, 25  # latest-wave respondents stay below 25 (< 30)
_MANAGERS_PER_HOME: Final = 2


def _small_unit(accounts: pd.DataFrame, latest: np.ndarray) -> np.ndarray:
    """Accounts of the small unit: those surveyed only in Namibia (the small-cell country), then
    the surveyed accounts with the fewest latest-wave respondents, while the unit stays small."""
    only_na = accounts["countries"].map(lambda c: tuple(c) == ("NA",)).to_numpy()
    small = only_na.copy()
    total = int(latest[small].sum())
    surveyed = accounts["in_survey"].to_numpy()
    for j in np.lexsort((np.arange(latest.size), latest)):  # fewest first; ~130 accounts
        if small.sum() >= _SMALL_UNIT_ACCOUNTS or total + latest[j] >= _SMALL_UNIT_MAX:
            break
        if not small[j] and surveyed[j] and latest[j] > 0:
            small[j] = True
            total += int(latest[j])
    return small


def _people(rng: np.random.Generator, pools: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fake people, one per name pool given, with distinct names and addresses at example.org.

    Each person is the first of four draws whose address is still free (else the first draw
    with a number added to the address): a handful of managers and owners, not rows.
    """
    n, tries = pools.size, 4
    name, email = _names(rng, np.tile(pools, tries))
    local = pd.Series(email, dtype=object).str.partition("@")[0].to_numpy(dtype=object)
    taken: set[str] = set()
    chosen = np.empty(n, dtype=np.int64)
    address = np.empty(n, dtype=object)
    for i in range(n):
        free = [i + t * n for t in range(tries) if local[i + t * n] not in taken]
        chosen[i] = free[0] if free else i
        address[i] = local[chosen[i]] if free else f"{local[i]}{len(taken) + 1}"
        taken.add(address[i])
    return name[chosen], address + "@example.org"


def _organisation(
    rng: np.random.Generator, accounts: pd.DataFrame, sample: dict
) -> tuple[str, dict[str, int]]:
    """organisation.yaml (text) and its counts for the README.

    Each account is in one of the four large units (shares ``_UNIT_SHARE``) or in the small
    one (:func:`_small_unit`); Acme Holdings and three drawn accounts are in two large units.
    Two account managers per home country, each account drawn one of its home's.
    """
    n = len(accounts)
    latest = np.bincount(sample["account_id"][sample["wave"] == len(WAVES) - 1], minlength=n)
    units = np.asarray(list(_BUSINESS_UNITS), dtype=object)
    first = rng.choice(len(_UNIT_SHARE), size=n, p=_UNIT_SHARE)
    small = _small_unit(accounts, latest)
    first[small] = len(units) - 1
    names = accounts["account"].to_numpy(dtype=object)
    acme = int(np.flatnonzero(names == "Acme Holdings Inc.")[0])
    pool = np.flatnonzero(accounts["in_survey"].to_numpy() & ~small & (np.arange(n) != acme))
    two = np.concatenate([[acme], rng.choice(pool, _TWO_UNIT_ACCOUNTS - 1, replace=False)])
    second = np.full(n, -1)
    step = 1 + rng.integers(0, len(_UNIT_SHARE) - 1, two.size)
    second[two] = (first[two] + step) % len(_UNIT_SHARE)
    homes = [c for c in COUNTRIES if c in set(accounts["home"])]
    # managers (by home country), product owners, process owners: all different people
    n_owners, n_leads = len(_PRODUCT_FUNCTION), len(_BUSINESS_PROCESSES)
    pools = np.repeat([_NAME_POOL[h] for h in homes], _MANAGERS_PER_HOME).astype(object)
    person, person_email = _people(rng, np.append(pools, ["en"] * (n_owners + n_leads)))
    manager, manager_email = person[: pools.size], person_email[: pools.size]
    owner, owner_email = person[pools.size :][:n_owners], person_email[pools.size :][:n_owners]
    lead, lead_email = person[-n_leads:], person_email[-n_leads:]
    home = np.array([homes.index(h) for h in accounts["home"]])
    pick = home * _MANAGERS_PER_HOME + rng.integers(0, _MANAGERS_PER_HOME, n)
    lines = [
        "# Organisation of the synthetic study: business units, functions, business processes,",
        "# and who owns each account, product and rated attribute (see docs/organisation.md).",
        "# Written by csatlib.sample.synth.generate (`csat synth`); do not edit by hand.",
    ]
    for key, codes in (("business_units", _BUSINESS_UNITS), ("functions", _FUNCTIONS),
                       ("business_processes", _BUSINESS_PROCESSES)):  # fmt: skip
        lines += [f"{key}:"] + [f"  {c}: {_yaml_value(label)}" for c, label in codes.items()]
    lines.append("accounts:")
    for j in sorted(range(n), key=lambda j: (names[j].casefold(), names[j])):
        member = [units[first[j]]] + ([units[second[j]]] if second[j] >= 0 else [])
        spec = {"business_units": member, "account_manager": manager[pick[j]],
                "manager_email": manager_email[pick[j]]}  # fmt: skip
        lines.append(f"  {_yaml_value(names[j])}: {_yaml_value(spec)}")
    lines.append("products:")
    for i, (product, function) in enumerate(_PRODUCT_FUNCTION.items()):
        spec = {"function": function, "owner": owner[i], "owner_email": owner_email[i]}
        lines.append(f"  {_yaml_value(product)}: {_yaml_value(spec)}")
    lines.append("attributes:")
    processes = list(_BUSINESS_PROCESSES)
    for attribute in ATTRIBUTES:
        i = processes.index(_ATTRIBUTE_PROCESS[attribute])
        spec = {"business_process": processes[i], "owner": lead[i], "owner_email": lead_email[i]}
        lines.append(f"  {attribute}: {_yaml_value(spec)}")
    counts = {"accounts": n, "two_units": len(two), "small_unit": int(small.sum()),
              "small_unit_latest": int(latest[small].sum())}  # fmt: skip
    return "\n".join(lines) + "\n", counts


# --------------------------------------------------------------------------------------------
# Codebooks, ground truth, README
# --------------------------------------------------------------------------------------------

_YAML_PLAIN: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_ .\-]*")
_YAML_RESERVED: Final = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null"})


def _yaml_value(value: object) -> str:
    """One YAML flow value; strings are quoted unless plainly safe ("Yes" and "NA" are quoted)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_yaml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml_value(v)}" for k, v in value.items()) + "}"
    text = str(value)
    if _YAML_PLAIN.fullmatch(text) and text.lower() not in _YAML_RESERVED and text[-1] != " ":
        return text
    return json.dumps(text, ensure_ascii=False)


def _codebook_text(title: str, top: dict[str, object], columns: dict[str, dict]) -> str:
    lines = [
        f"# {title}",
        "# Written by csatlib.sample.synth.generate (`csat synth`); do not edit by hand.",
    ]
    lines += [f"{k}: {_yaml_value(v)}" for k, v in top.items()]
    lines.append("columns:")
    lines += [f"  {name}: {_yaml_value(spec)}" for name, spec in columns.items()]
    return "\n".join(lines) + "\n"


def _relationship_codebook() -> str:
    cols: dict[str, dict] = {
        "response_id": {"source": "ResponseId", "role": "id", "label": "Response ID"},
        "date": {"source": "RecordedDate", "role": "date", "label": "Recorded date",
                 "format": "%Y-%m-%d %H:%M:%S"},
        "duration": {"source": "Duration (in seconds)", "role": "duration",
                     "label": "Duration (s)"},
        "country": {"source": "Q1", "role": "country", "label": "Country"},
        "account": {"source": "Q2", "role": "account", "label": "Account"},
        "segment": {"source": "Q3", "role": "segment", "label": "Segment"},
        "brand": {"source": "Q4", "role": "brand", "label": "Supplier"},
        "likelihood_to_recommend": {"source": "Q5", "role": "nps",
                                    "label": "Likelihood to recommend", "scale": [0, 10]},
        "overall_satisfaction": {"source": "Q6", "role": "overall",
                                 "label": "Overall satisfaction", "scale": [1, 10]},
    }  # fmt: skip
    for k, (attr, label) in enumerate(zip(ATTRIBUTES, _ATTRIBUTE_LABELS, strict=True)):
        cols[attr] = {"source": f"Q7_{k + 1}", "role": "attribute", "label": label,
                      "scale": [1, 10], "missing": [99]}  # fmt: skip
    for k, attr in enumerate(_IMPORTANCE):
        label = _ATTRIBUTE_LABELS[ATTRIBUTES.index(attr)]
        cols[f"importance_{attr}"] = {"source": f"Q8_{k + 1}", "role": "importance",
                                      "attribute": attr, "label": f"Importance: {label}",
                                      "scale": [1, 10]}  # fmt: skip
    for k, attr in enumerate(_EXPECTATION):
        label = _ATTRIBUTE_LABELS[ATTRIBUTES.index(attr)]
        cols[f"expectation_{attr}"] = {"source": f"Q10_{k + 1}", "role": "expectation",
                                       "attribute": attr, "label": f"Expectation: {label}",
                                       "scale": [1, 10]}  # fmt: skip
    loyalty_labels = (
        "Emotional loyalty (feel attached)",
        "Attitudinal loyalty (intend to keep buying)",
        "Cognitive loyalty (not considering switching)",
        "Referral (recommend to others)",
    )
    for k, (dim, label) in enumerate(zip(_LOYALTY, loyalty_labels, strict=True)):
        spec = {"source": f"Q9_{k + 1}", "role": "loyalty", "dimension": dim, "label": label,
                "scale": [1, 10]}  # fmt: skip
        if dim == "cognitive":
            spec["reverse"] = True
        cols[f"loyalty_{dim}"] = spec
    cols.update(
        {
            "text_like": {"source": "Q11", "role": "text_like", "label": "Likes"},
            "text_dislike": {"source": "Q12", "role": "text_dislike", "label": "Dislikes"},
            "complaint": {"source": "Q13", "role": "complaint", "label": "Complaint"},
            "contact_ok": {"source": "Q14", "role": "contact_ok",
                           "label": "Permission to contact", "true_values": ["Yes"],
                           "false_values": ["No"]},
            "contact_name": {"source": "Q15", "role": "contact", "label": "Contact name"},
            "contact_email": {"source": "Q16", "role": "contact", "label": "Contact e-mail"},
        }
    )  # fmt: skip
    top = {
        "file": "relationship_survey.csv",
        "kind": "responses",
        "survey": "relationship",
        "format": "qualtrics",
        "encoding": "utf-8-sig",
        "own_brand": OWN_BRAND,
        "missing_codes": [99],
        "waves": {"from": "date", "fiscal_year_start": 1},
    }
    return _codebook_text("Codebook of the synthetic relationship survey export.", top, cols)


def _transaction_codebook() -> str:
    cols = {
        "ticket_id": {"source": "ticket_id", "role": "id", "label": "Ticket"},
        "date": {"source": "created_at", "role": "date", "label": "Ticket created",
                 "format": "%Y-%m-%dT%H:%M:%S"},
        "region": {"source": "region", "role": "region", "label": "Region"},
        "country": {"source": "country", "role": "country", "label": "Country"},
        "account": {"source": "account", "role": "account", "label": "Account"},
        "product": {"source": "product", "role": "product", "label": "Product line"},
        "csat": {"source": "csat", "role": "overall", "label": "Ticket satisfaction",
                 "scale": [1, 5]},
        "comment": {"source": "comment", "role": "comment", "label": "Comment"},
        "contact_ok": {"source": "contact_ok", "role": "contact_ok",
                       "label": "Permission to contact", "true_values": ["Y"],
                       "false_values": ["N"]},
        "contact_name": {"source": "contact_name", "role": "contact", "label": "Contact name"},
        "contact_email": {"source": "contact_email", "role": "contact",
                          "label": "Contact e-mail"},
    }  # fmt: skip
    top = {
        "file": "transaction_survey.csv",
        "kind": "transactions",
        "survey": "transaction",
        "format": "csv",
        "encoding": "utf-8",
        "waves": {"from": "date", "fiscal_year_start": 1},
    }
    return _codebook_text("Codebook of the synthetic transactional (ticket) survey.", top, cols)


def _revenue_codebook() -> str:
    cols = {
        "account": {"source": "account", "role": "account", "label": "Account"},
        "country": {"source": "country", "role": "country", "label": "Country"},
        "year": {"source": "year", "role": "other", "label": "Year", "type": "int"},
        "revenue_usd": {"source": "revenue_usd", "role": "other", "label": "Revenue (USD)",
                        "type": "float"},
    }  # fmt: skip
    top = {"file": "revenue.csv", "kind": "revenue", "format": "csv", "encoding": "utf-8"}
    return _codebook_text("Codebook of the synthetic revenue file.", top, cols)


def _csv_bytes(
    frame: pd.DataFrame, *, extra_header: list[list[str]] | None = None, bom: bool = False
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(frame.columns)
    writer.writerows(extra_header or [])
    writer.writerows(zip(*(frame[c].to_numpy(dtype=object) for c in frame.columns), strict=True))
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


def _true_cells(
    rng: np.random.Generator, accounts: pd.DataFrame, pairs: pd.DataFrame, n_mc: int = 10_000
) -> tuple[dict, dict]:
    """True own-brand NPS and attribute means by country and wave (Monte Carlo, n_mc per cell).

    The LTR noise is integrated out exactly (Rao-Blackwell): given the ratings, a respondent is a
    promoter with probability P(ltr* >= 8.5) and a detractor with P(ltr* < 6.5), so the Monte
    Carlo error comes from the ratings only (about 0.3 NPS points per cell).
    """
    n_c, n_t = len(COUNTRIES), len(WAVES)
    country = np.repeat(np.arange(n_c), n_t * n_mc)
    wave = np.tile(np.repeat(np.arange(n_t), n_mc), n_c)
    surveyed = pairs[accounts["in_survey"].to_numpy()[pairs["account_id"]]]
    effect = np.zeros(country.size)
    for ci, c in enumerate(COUNTRIES):
        cand = surveyed[surveyed["country"] == c]
        pick = rng.choice(len(cand), size=n_t * n_mc, p=cand["weight"] / cand["weight"].sum())
        effect[country == ci] = cand["effect"].to_numpy()[pick]
    sim = _simulate(rng, country, wave, np.zeros(country.size, dtype=bool), effect)
    cell = country * n_t + wave
    mean_ltr = _expected_ltr(sim["s"], country)
    promoters = np.bincount(cell, ndtr((mean_ltr - 8.5) / _LTR_NOISE_SD)) / n_mc
    detractors = np.bincount(cell, ndtr((6.5 - mean_ltr) / _LTR_NOISE_SD)) / n_mc
    nps = 100.0 * (promoters - detractors)
    means = np.stack([np.bincount(cell, sim["x"][:, k]) / n_mc for k in range(len(ATTRIBUTES))])
    nps_out = {c: {w: round(float(nps[ci * n_t + ti]), 1) for ti, w in enumerate(WAVES)}
               for ci, c in enumerate(COUNTRIES)}  # fmt: skip
    mean_out = {
        c: {w: {a: round(float(means[k, ci * n_t + ti]), 2) for k, a in enumerate(ATTRIBUTES)}
            for ti, w in enumerate(WAVES)}
        for ci, c in enumerate(COUNTRIES)
    }  # fmt: skip
    return nps_out, mean_out


def _cronbach_alpha(items: np.ndarray) -> float:
    k = items.shape[1]
    return float(k / (k - 1) * (1 - items.var(axis=0, ddof=1).sum() / items.sum(1).var(ddof=1)))


def _readme(
    seed: int, rows: dict[str, int], organisation: dict[str, int], invitations: dict[str, object]
) -> str:
    n_accounts, n_two = organisation["accounts"], organisation["two_units"]
    n_small, n_small_latest = organisation["small_unit"], organisation["small_unit_latest"]
    return f"""# Sample data (synthetic)

Every file here except `cit_codebook.yaml`, `targets.csv`, `actions.csv` and `case_rules.yaml` is
**synthetic**: written by
`csat synth` (`csatlib.sample.synth.generate`) with seed {seed}, byte-identical on every run with
that seed.
Companies, people and e-mail addresses (example.com / example.org) are invented. The pipeline
reads this folder and never writes to it; `tests/sample/test_synth.py` fails when the files drift
from the generator.

- `relationship_survey.csv`: a Qualtrics-style CSV export (UTF-8 with BOM, three header
  rows: column ids, question texts, ImportId JSON) of a B2B relationship survey:
  {rows["relationship_survey.csv"]:,} rows in four quarterly waves (2025-Q4 .. 2026-Q3), 12
  large countries and Namibia (a small cell). Country and account names are spelled
  inconsistently; duplicates, empty responses, speeders, straight-liners, out-of-range and
  non-numeric values are injected on purpose.
- `relationship_survey.codebook.yaml`: maps its columns to canonical names and roles.
- `transaction_survey.csv` / `transaction_survey.codebook.yaml`: {rows["transaction_survey.csv"]:,}
  ticket satisfaction ratings (1-5) with zero-padded ticket ids that must stay strings.
- `revenue.csv` / `revenue.codebook.yaml`: {rows["revenue.csv"]:,} rows of revenue by account,
  country and year (2025, 2026); growth follows the account's true loyalty. Some revenue accounts
  were never surveyed and some surveyed accounts have no revenue.
- `contact_master.csv`: {rows["contact_master.csv"]:,} contacts for deployment sampling, with
  duplicate contacts (e-mail differing in case or blanks), do-not-survey flags and the date each
  was last surveyed.
- `invitations.csv`: the deployment list of the latest wave ({invitations["rows"]:,} invitations:
  wave, contact, e-mail, account, country, region, segment, date sent; the earlier waves' lists
  are left out to keep this folder small). Each address a respondent
  left was invited ({invitations["linked"]:,} invitations); respondents who left none were
  invited too ({invitations["unlinked"]:,}) but their answers cannot be linked to their
  invitation; the rest are contact-master contacts who did not answer, invited less often in APJ
  and in large accounts. Response rate measured by e-mail {invitations["measured_rate"]:.1%}
  (a lower bound), true rate {invitations["true_rate"]:.1%}. The revenue-only accounts were never
  invited.
- `account_aliases.csv`: manual alias -> canonical account overrides for spellings no fuzzy
  matcher can link (abbreviations, translations, another script).
- `organisation.yaml`: the organisation mapping (see docs/organisation.md): five business
  units, the units and account manager of each of the {n_accounts} accounts ({n_two} of them
  in two units), the function and owner of each product (Edge Gateways has no tickets yet) and
  the business process and owner of each rated attribute. Edge Labs ({n_small} accounts,
  {n_small_latest} responses in the latest wave of the export) is too small to report alone.
- `cit_hand_codes.csv`: {rows["cit_hand_codes.csv"]:,} codes by two coders of a sample of
  like/dislike incidents (`incident_id` = response id | field | 1-based position in the list).
- `ground_truth.json`: the generator's true model (driver weights per country, true NPS per
  country and wave, events), the injected defects with their counts and ids, and the accounts.
- `cit_codebook.yaml`: the CIT coding scheme, written by hand (not generated).
- `targets.csv`: the targets agreed with each unit (unit, metric, baseline wave, target, due
  wave), written by hand (not generated); the reports' scorecards read it.
- `actions.csv`: the action plans agreed with each unit (unit, attribute, root cause, action,
  owner, start wave, due, status), written by hand (not generated); the reports list them.
- `case_rules.yaml`: the follow-up rules (service level per case type, escalation rules),
  written by hand (not generated); the build's follow-up cases follow them.
"""


def _sample_stats(sample: dict) -> dict:
    country, wave = sample["country"], sample["wave"]
    own = ~sample["competitor"]
    ok = sample["analysable"]
    n_t = len(WAVES)
    cell = country * n_t + wave
    size = len(COUNTRIES) * n_t
    own_n = np.bincount(cell, own, minlength=size)
    ltr = sample["ltr"]
    nps = (
        100
        * (
            np.bincount(cell, ok & (ltr >= 9), minlength=size)
            - np.bincount(cell, ok & (ltr <= 6), minlength=size)
        )
        / np.maximum(np.bincount(cell, ok, minlength=size), 1)
    )
    out = {}
    for ci, c in enumerate(COUNTRIES):
        out[c] = {
            w: {
                "responses": int(sample["cell_counts"][ci, ti]),
                "own_brand": int(own_n[ci * n_t + ti]),
                "sample_nps_own_brand_clean": round(float(nps[ci * n_t + ti]), 1),
            }
            for ti, w in enumerate(WAVES)
        }
    loyalty = sample["loyalty"][ok].astype(float)
    loyalty[:, 2] = 11 - loyalty[:, 2]
    return {"cells": out, "loyalty_alpha": round(_cronbach_alpha(loyalty), 3)}


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------

_N_NAMED_ACCOUNTS: Final = 20


def generate(out_dir: Path, *, seed: int = SYNTH_SEED) -> dict[str, Path]:
    """Write the synthetic sample data set into ``out_dir``.

    Parameters
    ----------
    out_dir : Path
        Target folder (created if missing). ``data/raw`` (``csatlib.config.RAW_DIR``) holds the
        committed sample; files there other than the generated ones (``cit_codebook.yaml``,
        ``targets.csv``, ``actions.csv``, ``case_rules.yaml``) are left alone.
    seed : int, keyword-only
        Seed of the random streams (default ``csatlib.config.SYNTH_SEED``). The same seed gives
        byte-identical files (with the same numpy version).

    Returns
    -------
    dict[str, Path]
        File name -> path of every file written: ``relationship_survey.csv`` and its codebook,
        ``transaction_survey.csv`` and its codebook, ``revenue.csv`` and its codebook,
        ``contact_master.csv``, ``account_aliases.csv``, ``cit_hand_codes.csv``,
        ``organisation.yaml``, ``invitations.csv``, ``ground_truth.json`` and ``README.md``.

    Raises
    ------
    DataError
        ``seed`` is not a non-negative integer.

    Notes
    -----
    The generative model is described in the module docstring and, with the realized numbers,
    in ``ground_truth.json``. Each output draws from its own child of
    ``numpy.random.SeedSequence(seed)``, so changing one generator leaves the others' files alone.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise DataError(f"generate(seed=...): expected a non-negative integer, found {seed!r}")
    # spawn(9)[:8] are the children spawn(8) gave: adding a stream leaves the others' draws alone
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(9)]
    accounts, pairs = _accounts(streams[0])
    relationship, headers, defects, incidents, sample = _relationship(streams[1], accounts, pairs)
    transactions = _transactions(streams[2], accounts, pairs)
    revenue, growth = _revenue(streams[3], accounts, pairs)
    latest = revenue[revenue["year"] == "2026"].assign(v=lambda f: f["revenue_usd"].astype(float))
    totals = latest.groupby("account")["v"].sum().sort_values(ascending=False, kind="stable")
    named = set(totals.index[:_N_NAMED_ACCOUNTS])
    contacts, contact_stats = _contacts(streams[4], accounts, pairs, named)
    hand, hand_truth, agreement = _hand_codes(
        streams[5], incidents, np.asarray(defects["duplicates"]["response_ids"], dtype=object)
    )
    true_nps, true_means = _true_cells(streams[6], accounts, pairs)
    aliases = pd.DataFrame(ACCOUNT_ALIASES, columns=["alias", "canonical"])
    # drawn last, from the one stream nothing else uses: the other files stay as they were
    organisation, organisation_counts = _organisation(streams[7], accounts, sample)
    # likewise: the past waves' deployment lists, from a stream of their own
    invitations, invitation_counts = _invitations(streams[8], accounts, contacts, sample)

    files: dict[str, bytes] = {
        "relationship_survey.csv": _csv_bytes(relationship, extra_header=headers, bom=True),
        "relationship_survey.codebook.yaml": _relationship_codebook().encode("utf-8"),
        "transaction_survey.csv": _csv_bytes(transactions),
        "transaction_survey.codebook.yaml": _transaction_codebook().encode("utf-8"),
        "revenue.csv": _csv_bytes(revenue),
        "revenue.codebook.yaml": _revenue_codebook().encode("utf-8"),
        "contact_master.csv": _csv_bytes(contacts),
        "account_aliases.csv": _csv_bytes(aliases),
        "cit_hand_codes.csv": _csv_bytes(hand),
        "organisation.yaml": organisation.encode("utf-8"),
        "invitations.csv": _csv_bytes(invitations),
    }
    rows = {
        "relationship_survey.csv": len(relationship),
        "transaction_survey.csv": len(transactions),
        "revenue.csv": len(revenue),
        "contact_master.csv": len(contacts),
        "account_aliases.csv": len(aliases),
        "cit_hand_codes.csv": len(hand),
    }
    truth = {
        "generator": "csatlib.sample.synth",
        "generator_version": GENERATOR_VERSION,
        "seed": int(seed),
        **_truth_of_the_study(sample, true_nps, true_means),
        "defects": defects,
        "rows": rows,
        "rows_counted": "data rows: header rows (3 in the Qualtrics export, else 1) excluded",
        "accounts": _truth_of_accounts(accounts, sample["account_id"], growth, named),
        "account_aliases": {a: c for a, c in ACCOUNT_ALIASES},
        "similar_but_distinct_accounts": [list(p) for p in _SIMILAR_DISTINCT],
        "formula_injection_accounts": [a for a in accounts["account"] if a[0] in "=+-@"],
        "contact_master": contact_stats,
        "cit": {
            "taxonomy": {b: list(a) for b, a in CIT_TAXONOMY.items()},
            "attribute_to_rating": dict(CIT_TO_RATING),
            "hand_coded_truth": hand_truth,
            "coder_agreement_with_truth": {k: round(v, 4) for k, v in agreement.items()},
            "incidents_total": int(len(incidents)),
        },
    }
    files["ground_truth.json"] = (
        json.dumps(truth, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    ).encode("utf-8")
    files["README.md"] = _readme(int(seed), rows, organisation_counts, invitation_counts).encode(
        "utf-8"
    )

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, data in files.items():
        path = out / name
        path.write_bytes(data)
        paths[name] = path
    return paths


def _truth_of_the_study(sample: dict, true_nps: dict, true_means: dict) -> dict:
    """The model, brands, waves, events and countries sections of ground_truth.json."""
    stats = _sample_stats(sample)
    weights = _weight_matrix()
    top = true_top_drivers(len(ATTRIBUTES))
    return {
        "model": {
            "description": list(_MODEL_SUMMARY),
            "ltr_gain": _LTR_GAIN,
            "ltr_noise_sd": _LTR_NOISE_SD,
            "halo_sd": _HALO_SD,
            "attribute_sd": _SPECIFIC_SD,
            "account_effect_sd": _ACCOUNT_SD,
            "competitor_gap": _COMPETITOR_GAP,
            "attribute_offset": dict(zip(ATTRIBUTES, _ATTRIBUTE_OFFSET.tolist(), strict=True)),
            "dont_know_rate": dict(zip(ATTRIBUTES, _DK_RATE.tolist(), strict=True)),
            "stated_importance_mean": dict(
                zip(_IMPORTANCE, _IMPORTANCE_MEAN.tolist(), strict=True)
            ),
            "loyalty_alpha_sample": stats["loyalty_alpha"],
        },
        "own_brand": OWN_BRAND,
        "competitors": list(COMPETITORS),
        "competitor_share": round(float(np.mean(sample["competitor"])), 4),
        "waves": list(WAVES),
        "events": [dict(e) for e in _EVENTS],
        "countries": {
            c: {
                "region": _REGION[c],
                "small_cell": c == "NA",
                "spellings": [s for s, _ in COUNTRY_SPELLINGS[c]],
                "competitor_share": _COMPETITOR_SHARE[ci],
                "driver_weights": {
                    a: round(float(weights[ci, k]), 4) for k, a in enumerate(ATTRIBUTES)
                },  # fmt: skip
                "driver_ranking": list(top[c]),
                "top3": list(top[c][:3]),
                "true_nps_own_brand": true_nps[c],
                "true_attribute_means_own_brand": true_means[c],
                "sample": stats["cells"][c],
            }
            for ci, c in enumerate(COUNTRIES)
        },
    }


def _truth_of_accounts(
    accounts: pd.DataFrame, account_id: np.ndarray, growth: np.ndarray, named: set[str]
) -> dict:
    """The accounts section of ground_truth.json: one entry per account, by name."""
    counts = pd.Series(account_id).value_counts()
    return {
        row.account: {
            "home": row.home,
            "countries": list(row.countries),
            "segment": row.segment,
            "spellings": list(row.spellings),
            "loyalty_effect": round(float(row.loyalty_effect), 4),
            "revenue_growth": round(float(growth[i]), 4),
            "in_survey": bool(row.in_survey),
            "in_revenue": bool(row.in_revenue),
            "survey_responses": int(counts.get(i, 0)),
            "named_account": row.account in named,
        }
        for i, row in enumerate(accounts.itertuples(index=False))
    }
