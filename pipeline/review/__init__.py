"""Human review: sheets out and back, decisions as events, agreement."""
