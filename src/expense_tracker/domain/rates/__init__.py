"""Exchange rates a user keeps by hand or imports from CSV, and converting totals with them (issue 14)."""
