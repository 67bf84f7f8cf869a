"""Export tables to CSV, Parquet, JSON, Stata and Excel, safely and reproducibly."""
