"""Benchmarks for the SimpleStore provider: `python -m benchmarks.run [--quick] [--only NAME ...]`.

Each benchmark module exposes `NAME`, `TITLE` and `run(quick: bool, repeats: int | None) -> Report`.
Each starts its own sandbox in a separate process, repeats its measurements and reports medians and
ratios taken in the same run: absolute times on a shared machine mean little, ratios hold.
"""
