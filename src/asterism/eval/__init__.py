"""Evaluation: relevance from curator data, ranking metrics, tuning and model choice."""
