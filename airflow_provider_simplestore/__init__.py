"""Apache Airflow provider for the SimpleStore headless eCommerce platform.

Importing this package is cheap and does no I/O: the hook, operators and sandbox live in
sub-modules that are only loaded when used.
"""

__version__ = "1.0.0"

__all__ = ["__version__"]
