"""Budgets over time: a category's budget history per month, rollover, month and year views (issue 15, item 5)."""
