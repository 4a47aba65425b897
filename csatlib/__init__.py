"""csatlib: the customer-satisfaction research workbench.

The folders follow the flow from raw exports to reports, one domain each:

- ground floor (anyone may import): :mod:`~csatlib.config` (paths, defaults),
  :mod:`~csatlib.errors`, :mod:`~csatlib.roles` (what a study holds, from its codebook roles),
  :mod:`~csatlib.safety` (formula-safe CSV writer), and :mod:`~csatlib.cli` (``csat``);
- :mod:`csatlib.ingest`: read exports, codebooks, cleaning (``csat data``);
- :mod:`csatlib.stats`: NPS, scores, loyalty, key drivers, the four screens;
- :mod:`csatlib.text`: Critical Incident Technique coding of likes and dislikes;
- :mod:`csatlib.loop`: accounts at risk, follow-up lists, sampling for the next wave;
- :mod:`csatlib.report`: the reports, their sections and charts, and ``csat reports``;
- :mod:`csatlib.sample`: the synthetic sample study (``csat synth``).

Each subpackage's docstring says what it may import; ``tests/test_layers.py`` enforces it.
Importing the package is cheap; import the module you need.
"""

__version__ = "0.1.0"
