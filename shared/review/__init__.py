"""Human review of creatives: the decision audit, auto-approve rules, reviewer accounts."""
