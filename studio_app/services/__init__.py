"""The business rules. Plain Python: nothing under here imports Reflex."""
