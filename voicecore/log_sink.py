"""``python -m voicecore.log_sink --nats-url URL [--data-dir DIR]``: the sink on its own.

``voicecore up`` runs it so, as a supervised child process (:mod:`voicecore.roles`).

For running the log writer as a separate process (tests kill it mid-batch; an
operator may run it next to ``voicecore worker`` processes on an external NATS).
Prints one ready line, stops cleanly on SIGINT/SIGTERM. Composed here, above the
layers, because the log it writes carries the orchestrator's ``conversations`` view.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from pathlib import Path

from core.bus import Bus
from core.config import StreamLimits, default_data_dir
from core.errors import VoiceCoreError
from core.eventlog.database import LogDatabase
from core.eventlog.sink import Sink, SinkOptions
from core.natsauth import NatsAuth, identity
from orchestrator.views import VIEWS
from voicecore.loop import run_async, settle_gc


async def serve(nats_url: str, data_dir: Path, options: SinkOptions,
                auth: NatsAuth | None = None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    database = await LogDatabase.open(data_dir, views=VIEWS)
    try:
        bus = await Bus.connect(nats_url, name="voicecore-eventlog", auth=auth)
        try:
            await bus.ensure_streams(StreamLimits(), update=False)
            async with Sink(bus, database, options, nats_url=nats_url) as sink:
                print(f"eventlog ready: {database.store.path} consumer {sink.consumer}",
                      flush=True)
                await stop.wait()
        finally:
            await bus.drain()
    finally:
        await database.close()


def main() -> None:
    sink = argparse.ArgumentParser(prog="python -m voicecore.log_sink",
                                   description="copy VC_EVENTS into <data-dir>/eventlog.duckdb")
    url = os.environ.get("VOICECORE_NATS_URL")  # how `voicecore up` passes it (not in argv)
    sink.add_argument("--nats-url", required=url is None, default=url)
    sink.add_argument("--data-dir", type=Path, default=None)
    sink.add_argument("--fetch-batch", type=int, default=SinkOptions.fetch_batch)
    sink.add_argument("--max-batch", type=int, default=SinkOptions.max_batch)
    args = sink.parse_args()
    options = SinkOptions(fetch_batch=args.fetch_batch, max_batch=args.max_batch)
    settle_gc()  # after the imports, before the first event
    try:
        data_dir = args.data_dir or default_data_dir()
        # Credentials from the environment (how `voicecore up` passes them), else stored.
        auth = identity("sink", NatsAuth.from_env(), data_dir)
        run_async(serve(args.nats_url, data_dir, options, auth))
    except VoiceCoreError as exc:
        raise SystemExit(f"voicecore: error: {exc}") from exc


if __name__ == "__main__":
    main()
