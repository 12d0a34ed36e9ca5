"""`python -m benchmarks.child MODULE:FUNCTION JSON_ARGS`: run one measurement in a fresh interpreter."""

from __future__ import annotations

import sys

from benchmarks.harness import child_main

if __name__ == "__main__":
    child_main(sys.argv[1:])
