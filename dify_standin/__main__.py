"""`python -m dify_standin --port N`: serve the Dify stand-in on 127.0.0.1 with werkzeug's threaded server."""

from __future__ import annotations

import argparse
import logging

from werkzeug.serving import make_server

from dify_standin.app import Options, create_app
from dify_standin.demo_seed import seed_demo
from dify_standin.versions import DEFAULT_VERSION, parse_version


def dify_version(text: str) -> str:
    """argparse type: the text as given, once `parse_version` accepts it (else argparse names the option)."""
    try:
        parse_version(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m dify_standin", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument(
        "--dify-version",
        type=dify_version,
        default=DEFAULT_VERSION,
        help="Dify version to imitate: major.minor.patch (major.minor means .0), or 'newest'",
    )
    parser.add_argument("--dataset-key", default="dataset-standin-key", help="the workspace's dataset API key")
    parser.add_argument("--indexing-seconds", type=float, default=0.0, help="time a document takes to index")
    parser.add_argument("--etl-type", choices=["dify", "Unstructured"], default="dify", help="accepted file types")
    parser.add_argument("--ping-seconds", type=float, default=10.0, help="SSE keep-alive interval")
    parser.add_argument("--demo", action="store_true", help="seed the demo datasets and workflow app")
    args = parser.parse_args()
    options = Options(
        dify_version=args.dify_version,
        dataset_key=args.dataset_key,
        indexing_seconds=args.indexing_seconds,
        etl_type=args.etl_type,
        ping_seconds=args.ping_seconds,
    )
    app = create_app(options)
    if args.demo:
        seed_demo(app)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server(args.host, args.port, app, threaded=True)
    print(f"dify stand-in {args.dify_version} on http://{args.host}:{args.port}/v1", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
