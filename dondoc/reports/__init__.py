"""The reports the office publishes: the monthly late list, the quarterly report."""
