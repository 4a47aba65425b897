"""Text: the Critical Incident Technique (CIT) for customers' likes and dislikes.

In the order of the workflow (docs/cit.md):

- :mod:`~csatlib.text.normalize`: text normalization (case, accents, width) and codebook
  patterns turned into regexes over normalized text.
- :mod:`~csatlib.text.cit_codebook`: the CIT codebook: load, validate, compile.
- :mod:`~csatlib.text.coding`: incident splitting and rule coding with negation.
- :mod:`~csatlib.text.code_tables`: the columns every code table shares, merging hand > rule >
  model, coverage.
- :mod:`~csatlib.text.hand_coding`: the coding sheet for people and the hand codes read back.
- :mod:`~csatlib.text.agreement`: agreement between coders (Cohen's kappa, Krippendorff's
  alpha, per attribute).
- :mod:`~csatlib.text.accuracy`: the rule coder's precision and recall against hand codes,
  with Wilson intervals (stated in the country report).
- :mod:`~csatlib.text.assistant`: the assisted-coding model (train, cross-validate, suggest).
- :mod:`~csatlib.text.frequencies`: mentions of each benefit and attribute, top incidents with
  quotes and what went wrong on each disliked benefit, small cells suppressed.
- :mod:`~csatlib.text.workflow`: the notebook's steps of the coding loop (parameters, uncoded
  incidents, one coder's codes).

May import: the ground floor and :mod:`csatlib.stats`. Never ingest, loop or report.
"""
