"""The NATS side of ``voicecore replay``: ``--rerun`` (one or ``--all``) and ``--to-stream``."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pyarrow as pa
from rich.console import Console
from rich.progress import Progress
from rich.text import Text

from core import subjects
from core.bus import Bus
from core.errors import EventLogError
from core.eventlog.client import LogSource
from core.natsauth import NatsAuth
from orchestrator.replay import (
    REPLAY_CONVERSATION_PREFIX,
    RerunReport,
    new_run_id,
    republish,
    rerun,
)
from voicecore import render


async def rerun_one(table: pa.Table, conversation_id: str, url: str, auth: NatsAuth,
                    do_rerun: bool, to_stream: bool, timeout: float, as_json: bool,
                    console: Console) -> int:
    bus = await Bus.connect(url, name="voicecore-replay", auth=auth)
    try:
        run = new_run_id()
        out: dict[str, object] = {"run": run}
        code = 0
        if to_stream:
            out["republished"] = await republish(bus, table, run)
            if not as_json:
                console.print(f"republished {out['republished']} event(s) of {conversation_id} "
                              f"to {subjects.replay_subject(conversation_id, '>')} "
                              f"(stream {subjects.REPLAY_STREAM}, run {run})")
        if do_rerun:
            report = await rerun(bus, table, conversation_id, run, timeout)
            out["rerun"] = report.as_dict()
            code = 1 if report.differs else 0
            if not as_json:
                render.print_rerun(console, report)
                console.print(Text("results differ", "red") if report.differs
                              else Text("no difference", "green"))
        if as_json:
            print(render.dumps(out))
        return code
    finally:
        await bus.drain()


def recorded_conversations(source: LogSource, since: dt.datetime | None,
                           until: dt.datetime | None) -> dict[str, pa.Table]:
    """The logged events of every conversation in the range (not earlier replays)."""
    listing = source.table("conversations", since=since, until=until)
    ids = [c for c in listing.column("conversation_id").to_pylist()
           if not c.startswith(REPLAY_CONVERSATION_PREFIX)]
    return {cid: source.table("conversation_events", conversation_id=cid) for cid in ids}


async def rerun_all(tables: dict[str, pa.Table], url: str, auth: NatsAuth, timeout: float,
                    concurrency: int, as_json: bool, console: Console) -> int:
    ids = list(tables)
    bus = await Bus.connect(url, name="voicecore-replay", auth=auth)
    run = new_run_id()
    reports: list[RerunReport] = []
    skipped: dict[str, str] = {}
    gate = asyncio.Semaphore(concurrency)
    try:
        with Progress(console=console, transient=True, disable=as_json) as bar:
            task = bar.add_task(f"rerunning {len(ids)} conversation(s)", total=len(ids))

            async def one(cid: str) -> None:
                async with gate:
                    try:
                        reports.append(await rerun(bus, tables[cid], cid, run, timeout))
                    except EventLogError as exc:
                        skipped[cid] = str(exc)
                    bar.advance(task)

            await asyncio.gather(*(one(cid) for cid in ids))
    finally:
        await bus.drain()
    differing = sorted(r.conversation_id for r in reports if r.differs)
    summary = {"run": run, "conversations": len(ids), "rerun": len(reports),
               "same": len(reports) - len(differing), "differ": len(differing),
               "differing": differing, "skipped": skipped}
    if as_json:
        summary["reports"] = [r.as_dict() for r in reports if r.differs]
        print(json.dumps(summary, indent=2, default=str))
    else:
        for report in sorted(reports, key=lambda r: r.conversation_id):
            if report.differs:
                render.print_rerun(console, report)
        console.print(f"run {run}: {len(reports)} conversation(s) rerun, "
                      f"{summary['same']} same, {len(differing)} differ, {len(skipped)} skipped")
    return 1 if differing else 0
