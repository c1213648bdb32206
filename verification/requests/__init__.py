"""Verification requests: one per application, one query per department (from
the current snapshot or through the live connector), the answers, the report and the
feedback letter (docs/verification.md)."""
