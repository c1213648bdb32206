"""Trust: trust records, the honest declarant, rewards and yearly results (docs/credit.md)."""
