"""The analyst's report: one self-contained HTML file with its figures."""
