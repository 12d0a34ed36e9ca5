"""`python -m airflow_provider_simplestore.sandbox`: serve a sandbox until interrupted."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from airflow_provider_simplestore.sandbox.faults import FaultRule, FaultSpecError
from airflow_provider_simplestore.sandbox.options import SandboxOptions

FAULT_HELP = """\
fault syntax (repeat --fault / --token-fault for several rules):
  KIND:PROBABILITY[:key=value,...]   or one JSON object
  KIND         500 502 503 504 429 reset slow
  keys         phase=before|after  methods=GET|POST  routes=/v1/orders|/v1/products
               retry_after=SECONDS (429, 503)  delay=SECONDS (slow)
examples:
  --fault 503:0.1
  --fault 'reset:0.05:phase=after,methods=POST'
  --fault '{"kind": "429", "probability": 0.2, "retry_after": 2}'
  --token-fault 500:0.5
"""


def parser() -> argparse.ArgumentParser:
    defaults = SandboxOptions()
    p = argparse.ArgumentParser(
        prog="python -m airflow_provider_simplestore.sandbox",
        description="Serve the local SimpleStore sandbox (token server and /v1 API on one origin).",
        epilog=FAULT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default: %(default)s)")
    p.add_argument("--port", type=int, default=8765, help="port; 0 picks a free one (default: %(default)s)")
    p.add_argument("--seed", type=int, default=defaults.seed, help="data and fault seed (default: %(default)s)")
    for name in ("products", "customers", "orders", "categories", "collections", "specials", "folders"):
        p.add_argument(
            f"--{name}", type=int, default=getattr(defaults, name), help=f"seeded {name} (default: %(default)s)"
        )
    p.add_argument("--client-id", default=defaults.client_id, help="default: %(default)s")
    p.add_argument("--client-secret", default=defaults.client_secret, help="default: %(default)s")
    p.add_argument(
        "--token-ttl", type=float, default=defaults.token_ttl, help="token lifetime, seconds (default: %(default)s)"
    )
    p.add_argument("--max-page-size", type=int, default=defaults.max_page_size, help="default: %(default)s")
    p.add_argument("--latency-ms", type=float, default=0.0, help="added to every API response (default: 0)")
    p.add_argument(
        "--request-timeout",
        type=float,
        default=defaults.request_timeout,
        help="seconds a connection has to send a whole request, else it is closed (default: %(default)s)",
    )
    p.add_argument(
        "--anchor", default=None, help="ISO datetime; orders span the 90 days before it (default: this hour, UTC)"
    )
    p.add_argument(
        "--max-body-bytes",
        type=int,
        default=defaults.max_body_bytes,
        help="larger bodies get 413 (default: %(default)s)",
    )
    p.add_argument(
        "--no-catalog-routes",
        dest="catalog_routes",
        action="store_false",
        help="hide the sandbox-chosen catalog routes (products, categories, collections, specials, configuration)",
    )
    p.add_argument(
        "--fault", dest="faults", action="append", default=[], metavar="SPEC", help="an API fault rule (see below)"
    )
    p.add_argument(
        "--token-fault",
        dest="token_faults",
        action="append",
        default=[],
        metavar="SPEC",
        help="a fault rule for POST /connect/token",
    )
    p.add_argument("--fault-seed", type=int, default=None, help="seed of the fault draws (default: --seed)")
    p.add_argument(
        "--rate-limit",
        type=float,
        default=None,
        metavar="RPS",
        help="token bucket per client id: 429 with Retry-After beyond RPS requests/s (default: no limit)",
    )
    p.add_argument("--burst", type=int, default=None, metavar="N", help="bucket size (default: one second's worth)")
    return p


def is_loopback(host: str) -> bool:
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: Sequence[str] | None = None) -> int:
    args = vars(parser().parse_args(argv))
    host, port = args.pop("host"), args.pop("port")
    try:
        args["faults"] = [FaultRule.parse(spec) for spec in args["faults"]]
        args["token_faults"] = [FaultRule.parse(spec) for spec in args["token_faults"]]
        options = SandboxOptions.build(**args)
    except (FaultSpecError, ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    import uvicorn

    from airflow_provider_simplestore.sandbox.app import create_app
    from airflow_provider_simplestore.sandbox.server import bind_socket, paste_instructions, uvicorn_config

    if not is_loopback(host):
        print(
            f"WARNING: the sandbox listens on {host}, beyond this machine: anyone who can reach it can use "
            "its unauthenticated control routes (/_sandbox/reset, /_sandbox/faults, /_sandbox/revoke) and its "
            "well-known client secret. Use --host 127.0.0.1 unless that is what you want.",
            file=sys.stderr,
            flush=True,
        )
    sock = bind_socket(host, port)
    app = create_app(options)
    bound_host, bound_port = sock.getsockname()[:2]
    url = f"http://{bound_host}:{bound_port}"
    print(f"SimpleStore sandbox serving {url}", flush=True)
    print(f"  token URL     {url}/connect/token", flush=True)
    print(f"  client_id     {options.client_id}", flush=True)
    print(f"  client_secret {options.client_secret}", flush=True)
    print(
        f"  seed {options.seed}, anchor {options.anchor.isoformat()}, control routes under {url}/_sandbox/", flush=True
    )
    print("\nThe connection for Airflow (paste one of these lines):", flush=True)
    for line in paste_instructions(url, options.client_id, options.client_secret).splitlines():
        print(f"  {line}", flush=True)
    uvicorn.Server(uvicorn_config(app, sock, request_timeout=options.request_timeout)).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
