"""Ingest: survey exports in, one clean typed table per kind out, every row accounted for.

- :mod:`~csatlib.ingest.io`: read exports (Qualtrics, SurveyMonkey, plain CSV, XLSX, SPSS) as text.
- :mod:`~csatlib.ingest.codebook`: parse and validate the YAML codebooks (roles, scales, labels).
- :mod:`~csatlib.ingest.clean`: clean each export with a complete log; ``csat data`` writes
  data/processed (:func:`~csatlib.ingest.clean.build_processed`).
- :mod:`~csatlib.ingest.countries`: country names and codes to ISO 3166 alpha-2.
- :mod:`~csatlib.ingest.organisation`: the organisation mapping (business units of the accounts,
  functions of the products, business processes of the attributes, their owners) and which
  units each response belongs to.
- :mod:`~csatlib.ingest.extract`: ``csat extract``, a de-identified analysis table with its data
  dictionary.

May import: the ground floor (:mod:`csatlib.config`, :mod:`csatlib.errors`, :mod:`csatlib.roles`,
:mod:`csatlib.safety`). Never statistics, text, loop or report (a test enforces it).
"""
