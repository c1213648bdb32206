"""Filing an application: household, members, declaration, proofs, authorisations."""
