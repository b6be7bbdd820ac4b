"""Normalisation of catalogue text: dates, artist names, licenses.

Every source hands over museum text verbatim; these pure functions turn it
into the comparable values the pipeline needs, the same way for every source.
"""
