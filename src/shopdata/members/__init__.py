"""Membership applications pipeline: clean, validate, issue IDs, deliver."""
