"""Human review: sheets out and back, decisions as events, agreement."""

# Krippendorff's lowest alpha for tentative conclusions, and the reviewed segments it needs
# before a code is judged against it (the reliability gate).
GATE_ALPHA = 0.667
GATE_MIN_UNITS = 30
