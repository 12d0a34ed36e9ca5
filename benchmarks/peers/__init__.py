"""The provider beside the tools a data engineer would pick instead: `make bench-peers`.

Every candidate lists the same sandbox orders and writes them somewhere, in a fresh interpreter:
the provider's operators, Airflow's HttpOperator and a plain `requests` loop with the project's
.venv; dlt with its own venv (.venv-peers, pinned in requirements.txt), so that Airflow's pins stay
untouched. `python -m benchmarks.peers.run --help` for the options.

Modules: `output` (writing and checking JSON Lines and tables; standard library only, both venvs
import it), `plain` (the plain loop), `airflow_candidates`, `dlt_candidates`, `run` (conditions,
interleaving, the report).
"""
