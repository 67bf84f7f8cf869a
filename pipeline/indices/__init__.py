"""Yearly (or quarterly, monthly) discourse-shift indices computed from final codes."""
