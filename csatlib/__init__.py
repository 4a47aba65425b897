"""csatlib: the customer-satisfaction research workbench.

Modules are named after the domain: ``io`` (read exports), ``codebook``, ``clean``, ``nps``,
``scores``, ``loyalty``, ``drivers``, ``screens``, ``cit``, ``accounts``, ``followup``,
``sampling``, ``plots``, ``reports`` (papermill/nbconvert orchestration), ``synth`` (sample data)
and ``cli``. Importing the package is cheap; import the module you need.
"""

__version__ = "0.1.0"
