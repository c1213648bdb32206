"""Credit findings: behaviours, levels, escalation, sanctions and blocks, objections,
repair, and the outbox to the credit-information platform (docs/credit.md)."""
