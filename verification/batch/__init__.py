"""Batch comparisons: everyone enrolled against the current snapshots, findings in
the township's queue (docs/verification.md)."""
