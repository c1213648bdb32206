"""Departments and the data they supply, their data feeds (snapshot files), the
import and the import history (docs/verification.md)."""
