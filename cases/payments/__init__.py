"""Money: entitlements, payment rosters, bank files and returns, funds (domain.md §7)."""
