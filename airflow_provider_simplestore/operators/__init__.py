"""Operators: one call, exports to storage, loads into SQL, imports from files."""
