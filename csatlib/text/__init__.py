"""Text: the Critical Incident Technique (CIT) for customers' likes and dislikes.

- :mod:`~csatlib.text.cit`: the CIT codebook, incident splitting, rule coding with negation,
  frequencies and quotes, agreement between coders (Cohen's kappa, Krippendorff's alpha), the
  assisted-coding model.
- :mod:`~csatlib.text.workflow`: the hand-coding loop (export for coders, import, review).

May import: the ground floor and :mod:`csatlib.stats`. Never ingest, loop or report.
"""
