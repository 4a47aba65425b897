"""Reports: the country and global reports, their sections and charts, and the build.

- :mod:`~csatlib.report.context`: one report's inputs (a country's, or a business unit's or
  other slice's: what the study has, the subsets, the results shared by several sections).
- :mod:`~csatlib.report.sections`: which optional sections a study has, from its roles.
- :mod:`~csatlib.report.summary`, :mod:`~csatlib.report.overview`: the executive summary and the
  global summary.
- :mod:`~csatlib.report.tables`, :mod:`~csatlib.report.plots`, :mod:`~csatlib.report.display`:
  display tables, charts and escaped HTML.
- :mod:`~csatlib.report.coverage`: the one block of what a small unit's report cannot show.
- :mod:`~csatlib.report.provenance`: the reviewer's provenance block.
- :mod:`~csatlib.report.explore`: the self-service banner tables and charts behind
  ``notebooks/explore.ipynb``.
- :mod:`~csatlib.report.metrics`: the headline figures as JSON.
- :mod:`~csatlib.report.history`: every wave's headline figures per unit, kept (SQLite).
- :mod:`~csatlib.report.build`: ``csat reports``: plans, runs and publishes every task;
  :mod:`~csatlib.report.execute`: runs one notebook (papermill engine, kernels, executors);
  :mod:`~csatlib.report.render`: nbconvert rendering; :mod:`~csatlib.report.stamps`:
  fingerprints and build stamps; :mod:`~csatlib.report.index`: the index page (Jinja2
  template); :mod:`~csatlib.report.kernels`: the fork server;
  :mod:`~csatlib.report.direct`: a notebook run without a kernel, in a forked process.

The only subpackage that knows papermill, nbconvert and Jupyter kernels. May import everything.
"""
