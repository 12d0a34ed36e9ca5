"""Triggers (run in the triggerer; async hook only)."""
