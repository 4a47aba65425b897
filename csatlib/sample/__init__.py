"""The synthetic sample study (``csat synth``): exports, codebooks and ground truth in data/raw.

Not used by the product's analyses; tests and the sample reports use what it writes. May import
the ground floor only.
"""
