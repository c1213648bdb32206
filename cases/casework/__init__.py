"""The case queue, the case page, the steps to a decision, notices, visits, documents."""
