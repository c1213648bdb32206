"""Spot-checks: the county's sampled campaigns, their assignment, findings and
schedules (docs/supervision.md)."""
