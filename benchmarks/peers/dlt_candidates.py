"""The dlt candidates, run with .venv-peers' python (dlt, duckdb, pyarrow: benchmarks/peers/requirements.txt).

dlt's declarative `rest_api` source, configured as its docs show for this API: OAuth2 client
credentials against `/connect/token`, pages by `pageIndex` (from 0) up to `totalPages`, records
under `result`. dlt's defaults otherwise: nested lists become child tables (`orders__items`,
`orders__payments`), names snake_case (`orderId` is `order_id`), filesystem files gzipped.
Each run has its own pipelines folder and destination, so no state carries over between runs.

`files_task` / `duckdb_task` are what a user writes (the lines counted as user code); `run_*` is
the child side: time the run, check what it wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dlt
import duckdb
from dlt.sources.helpers.rest_client.auth import OAuth2ClientCredentials
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator
from dlt.sources.rest_api import rest_api_source

from benchmarks.peers.output import credentials, jsonl_counts, table_counts, timed

DATASET = "simplestore"
ID_COLUMN = "order_id"  # dlt's name for orderId


def orders_source(url: str, token_url: str, page_size: int, write_disposition: str) -> Any:
    client_id, client_secret = credentials()
    return rest_api_source(
        {
            "client": {
                "base_url": url,
                "auth": OAuth2ClientCredentials(
                    access_token_url=token_url, client_id=client_id, client_secret=client_secret
                ),
                "paginator": PageNumberPaginator(base_page=0, page_param="pageIndex", total_path="totalPages"),
            },
            "resources": [
                {
                    "name": "orders",
                    "primary_key": "orderId",
                    "write_disposition": write_disposition,
                    "endpoint": {"path": "v1/orders", "params": {"pageSize": page_size}, "data_selector": "result"},
                }
            ],
        }
    )


def files_task(url: str, token_url: str, page_size: int, folder: Path, pipelines: Path) -> None:
    pipeline = dlt.pipeline(
        pipeline_name="orders_to_files",
        destination=dlt.destinations.filesystem(bucket_url=folder.as_uri()),
        dataset_name=DATASET,
        pipelines_dir=str(pipelines),
    )
    pipeline.run(orders_source(url, token_url, page_size, "append"), loader_file_format="jsonl")


def duckdb_task(url: str, token_url: str, page_size: int, database: Path, pipelines: Path) -> None:
    pipeline = dlt.pipeline(
        pipeline_name="orders_to_duckdb",
        destination=dlt.destinations.duckdb(str(database)),
        dataset_name=DATASET,
        pipelines_dir=str(pipelines),
    )
    pipeline.run(orders_source(url, token_url, page_size, "merge"))


# ---- child side ----------------------------------------------------------------------------------


def run_files(url: str, token_url: str, page_size: int, out: str) -> dict[str, Any]:
    folder = Path(out) / "files"
    seconds = timed(lambda: files_task(url, token_url, page_size, folder, Path(out) / "pipelines"))
    written = list((folder / DATASET / "orders").glob("*.jsonl*"))
    return {"seconds": seconds, **jsonl_counts(written, ID_COLUMN), "sha256": None}


def run_duckdb(url: str, token_url: str, page_size: int, out: str) -> dict[str, Any]:
    database = Path(out) / "orders.duckdb"
    seconds = timed(lambda: duckdb_task(url, token_url, page_size, database, Path(out) / "pipelines"))
    with duckdb.connect(str(database), read_only=True) as conn:
        return {"seconds": seconds, **table_counts(conn, f"{DATASET}.orders", ID_COLUMN)}
