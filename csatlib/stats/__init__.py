"""Statistics: every estimator with its formula, reference and the check it was tested against.

- :mod:`~csatlib.stats.nps`: the Net Promoter Score with its adjusted Wald interval, differences.
- :mod:`~csatlib.stats.scores`: means, top/bottom-box shares, expectation gaps, trends by wave.
- :mod:`~csatlib.stats.loyalty`: Cronbach's alpha and the 0-100 loyalty index.
- :mod:`~csatlib.stats.drivers`: key drivers (Shapley/LMG, relative weights, OLS, logit),
  importance-performance, the Pareto of dissatisfaction.
- :mod:`~csatlib.stats.screens`: the four screens with Benjamini-Hochberg q-values.
- :mod:`~csatlib.stats.crosstab`: banner tables (NPS, means, top-box shares per row group x
  banner column) with significance letters, clustered by account and multiplicity-corrected.

May import: the ground floor and each other. Never ingest, text, loop, report or sample, and no
plotting or notebook package (matplotlib, seaborn, papermill, nbconvert, nbformat, nbclient,
jupyter); a test enforces it.
"""
