"""Closing the loop: accounts at risk, follow-up lists, revenue linkage, deployment sampling.

- :mod:`~csatlib.loop.accounts`: account-name matching, account summaries, the at-risk rule,
  revenue at stake and revenue linkage.
- :mod:`~csatlib.loop.followup`: recovery calls, testimonials and complaint callbacks.
- :mod:`~csatlib.loop.sampling`: the deployment list for the next wave.
- :mod:`~csatlib.loop.routing`: who gets each row, from the organisation mapping (account
  managers, business units, product owners); :mod:`~csatlib.loop.recipients` writes a list
  once per recipient, with the rows nobody gets in an ``unrouted`` file.
- :mod:`~csatlib.loop.lists`: every list a study allows, written to reports/lists.

May import: the ground floor, :mod:`csatlib.stats` and :mod:`csatlib.ingest` (to read the
processed tables). Never report.
"""
