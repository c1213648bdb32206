"""Periodic reviews, adjustments and the county's monthly file checks."""
