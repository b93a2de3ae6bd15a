"""``voicecore log …`` and ``voicecore replay``: audit and replay from the DuckDB log.

Every command takes ``--data-dir`` (default as ``voicecore up``). The log is read
from the file when nothing holds it, else from the running sink over NATS
(:mod:`core.eventlog.client`). Replay without ``--rerun``/``--to-stream`` needs
no NATS at all.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.text import Text

from core.config import DEFAULT_NATS_PORT, default_data_dir
from core.errors import ConfigError, EventLogError
from core.eventlog.client import open_log, service_url
from core.natsauth import NatsAuth, identity
from core.subjects import preview
from orchestrator.replay import check_rerunnable, replay_state
from orchestrator.timeline import timeline
from orchestrator.views import VIEWS
from voicecore import literal, render
from voicecore.export import STDOUT, Format, export_pages, output_to
from voicecore.export_audio import AudioCollector, export_audio
from voicecore.options import AsJson, DataDir, with_nats_auth
from voicecore.prices import load_prices, priced
from voicecore.rerun_all import recorded_conversations, rerun_all, rerun_one

log_app = typer.Typer(help="Audit the event log (DuckDB): conversations, timelines, SQL, "
                      "export, verify, redact.", no_args_is_help=True)
console = literal.console()
status_console = literal.console(stderr=True)
"""Progress and the summary line when the data itself goes to standard output."""

Since = Annotated[str | None, typer.Option(
    "--since", help="ISO time (2026-11-23T10:00Z) or age (90s, 15m, 2h, 7d)")]
Until = Annotated[str | None, typer.Option("--until", help="ISO time or age, like --since")]
NatsUrl = Annotated[str | None, typer.Option(
    "--nats-url", envvar="VOICECORE_NATS_URL",
    help="NATS for --rerun/--to-stream [default: the running voicecore's, else 127.0.0.1:4222]")]

_AGE = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_time(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    age = _AGE.match(text.strip())
    if age:
        seconds = float(age.group(1)) * _UNITS[age.group(2)]
        return dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds)
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"not a time: {text!r} (use ISO 8601 or an age like 2h)") from exc
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@contextmanager
def _log(data_dir: Path | None, nats_auth: NatsAuth, write: bool = False) -> Any:
    """The log; through a running voicecore as the read-only identity, or the admin's to
    write (redact)."""
    base = data_dir or default_data_dir()
    auth = identity("admin" if write else "cli", nats_auth, base)
    source = open_log(base, write=write, views=VIEWS, auth=auth)
    try:
        yield source
    finally:
        source.close()


def unknown(conversation_id: str) -> EventLogError:
    """The one answer to a conversation the log does not hold (show, export, replay)."""
    return EventLogError(f"no conversation {preview(conversation_id)} in the event log")


@log_app.command("conversations")
@with_nats_auth
def conversations(nats_auth: NatsAuth,
                  data_dir: DataDir = None, since: Since = None, until: Until = None,
                  limit: Annotated[int | None, typer.Option(min=0, help="At most N rows")] = None,
                  as_json: AsJson = False) -> None:
    """One row per conversation: first/last time, events, primitives used, outcome."""
    with _log(data_dir, nats_auth) as source:
        table = source.table("conversations", since=parse_time(since), until=parse_time(until),
                             limit=limit)
    if as_json:
        print(render.rows_json(table))
    else:
        console.print(render.conversations_table(table))


@log_app.command("show")
@with_nats_auth
def show(nats_auth: NatsAuth, conversation_id: str, data_dir: DataDir = None,
         as_json: AsJson = False) -> None:
    """A conversation's timeline: offsets, trace ids, request→result durations."""
    with _log(data_dir, nats_auth) as source:
        table = source.table("timeline", conversation_id=conversation_id)
    if table.num_rows == 0:
        raise unknown(conversation_id)
    if as_json:
        print(render.rows_json(table))
    else:
        console.print(render.timeline_table(conversation_id, table))


@log_app.command("query")
@with_nats_auth
def query(nats_auth: NatsAuth,
          sql: Annotated[str, typer.Argument(help="One SELECT over events, conversations, "
                                             "primitive_executions, usage")],
          data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """Read-only SQL over the documented views."""
    with _log(data_dir, nats_auth) as source:
        table = source.table("query", sql=sql)
    if as_json:
        print(render.rows_json(table))
    else:
        console.print(render.generic_table(table))


@log_app.command("usage")
@with_nats_auth
def usage(nats_auth: NatsAuth,
          conversation: Annotated[str | None, typer.Option(
              "--conversation", help="Only this conversation")] = None,
          since: Since = None,
          prices: Annotated[Path | None, typer.Option(
              "--prices", envvar="VOICECORE_PRICES",
              help="Price table (TOML) over the built-in one (see the README)")] = None,
          data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """What speech calls consumed, per conversation and engine: calls, characters,
    audio seconds and their cost."""
    table = load_prices(prices)  # a bad file fails before the log is opened
    with _log(data_dir, nats_auth) as source:
        found = source.table("usage", conversation_id=conversation, since=parse_time(since))
    rows = priced(found.to_pylist(), table)
    if as_json:
        print(render.dumps(rows))
    else:
        console.print(render.usage_table(rows, table.currency))


@log_app.command("export")
@with_nats_auth
def export(nats_auth: NatsAuth,
           fmt: Annotated[Format, typer.Option("--format", help="parquet or jsonl")],
           conversation: Annotated[str | None, typer.Option(
               "--conversation", help="Only this conversation")] = None,
           since: Since = None,
           output: Annotated[Path | None, typer.Option(
               "--output", "-o", help="File to write [default: voicecore-events-<time>.<format>]")
           ] = None,
           data_dir: DataDir = None,
           with_audio: Annotated[Path | None, typer.Option(
               "--with-audio", help="Also write the audio the events reference into this "
               "directory (from the running voicecore)")] = None,
           page_rows: Annotated[int, typer.Option(hidden=True)] = 50_000) -> None:
    """Export rows (every column) as Parquet or JSON lines, with a progress bar.

    ``-o -`` writes to standard output (progress and the summary go to standard error).
    An unknown ``--conversation`` is an error, as for ``show``, and writes nothing.
    """
    audio = AudioCollector()  # filled only with --with-audio: it parses every row's data
    start = parse_time(since)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = output or Path(f"voicecore-events-{stamp}.{fmt.value}")
    status = status_console if path == STDOUT else console
    with _log(data_dir, nats_auth) as source:
        if conversation is not None and source.call("count", conversation_id=conversation) == 0:
            raise unknown(conversation)
        total = source.call("count", conversation_id=conversation, since=start)
        with output_to(path) as out, Progress(console=status, transient=True,
                                              disable=total < page_rows) as bar:
            task = bar.add_task("exporting", total=total)
            written = export_pages(source, fmt, out, conversation, start, page_rows,
                                   lambda n: bar.advance(task, n),
                                   audio.add_page if with_audio is not None else None)
    where = "standard output" if path == STDOUT else str(path)
    status.print(Text.assemble(f"exported {written} event(s) to ", literal.literal(where)))
    if with_audio is not None:
        base = data_dir or default_data_dir()
        url = service_url(base) or f"nats://127.0.0.1:{DEFAULT_NATS_PORT}"
        done = asyncio.run(export_audio(audio.refs.values(), with_audio, url,
                                        identity("cli", nats_auth, base)))
        status.print(Text.assemble(
            f"wrote {done.written} audio file(s) to ", literal.literal(str(with_audio)),
            f" ({done.unavailable} unavailable: expired or redacted)" if done.unavailable
            else ""))


@log_app.command("verify")
@with_nats_auth
def verify(nats_auth: NatsAuth, data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """Recompute the hash chains; name the first broken link (exit 1 when broken)."""
    with _log(data_dir, nats_auth) as source:
        report = source.call("verify")
    if as_json:
        print(render.dumps(report))
    elif report["ok"]:
        console.print(f"ok: {report['rows']} row(s), {report['conversations']} conversation "
                      f"chain(s) intact; log head {report['log_head']}")
    else:
        b = report["broken"]
        where = ", ".join(f"{k} {b[k]}" for k in ("pos", "seq", "event_id", "conversation_id")
                          if b.get(k) is not None)
        console.print(Text.assemble(("BROKEN", "red"), f" {b['chain']} chain at ",
                                    literal.literal(where), ": ", literal.literal(b["reason"])))
    raise typer.Exit(0 if report["ok"] else 1)


@log_app.command("redact")
@with_nats_auth
def redact(nats_auth: NatsAuth, conversation_id: str, data_dir: DataDir = None,
           reason: Annotated[str, typer.Option(help="Recorded in the redaction event")] = "",
           as_json: AsJson = False) -> None:
    """Remove personal values from a conversation; keep structure, timing and chains."""
    with _log(data_dir, nats_auth, write=True) as source:
        if source.call("count", conversation_id=conversation_id) == 0:
            raise unknown(conversation_id)
        result = source.call("redact", conversation_id=conversation_id, reason=reason)
    if as_json:
        print(render.dumps(result))
        return
    console.print(Text.assemble(
        f"redacted {result['redacted_events']} event(s) of ", literal.literal(conversation_id),
        " (", literal.literal(", ".join(result["fields"]) or "nothing personal found"),
        f"); redaction {result['redaction_id']}, chain re-anchored: "
        f"{result['previous_head'][:16]}… → {result['head'][:16]}…"))
    if not result.get("stream_purged"):
        console.print("note: copies in the NATS streams were not purged yet (voicecore is not "
                      "running, or NATS refused): the event log erases them when it next runs")


@with_nats_auth
def replay(
    nats_auth: NatsAuth,
    conversation_id: Annotated[str | None, typer.Argument(help="Conversation to replay")] = None,
    data_dir: DataDir = None,
    rerun: Annotated[bool, typer.Option(
        "--rerun", help="Re-drive recorded requests through today's primitives; diff")] = False,
    all_: Annotated[bool, typer.Option(
        "--all", help="Rerun every conversation in --since/--until")] = False,
    since: Since = None, until: Until = None,
    to_stream: Annotated[bool, typer.Option(
        "--to-stream", help="Republish the recorded events to vc.replay.<conversation>.>")
    ] = False,
    nats_url: NatsUrl = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for rerun results")] = 30.0,
    concurrency: Annotated[int, typer.Option(min=1, help="Conversations rerun at once")] = 8,
    as_json: AsJson = False,
) -> None:
    """Fold a conversation's events into its state; or rerun / republish it."""
    if all_:
        rerun = True
    elif conversation_id is None:
        raise ConfigError("replay needs a conversation id (or --all)")
    base = data_dir or default_data_dir()
    url = nats_url or service_url(base) or f"nats://127.0.0.1:{DEFAULT_NATS_PORT}"
    admin = identity("admin", nats_auth, base)  # rerun and --to-stream publish
    with _log(base, nats_auth) as source:
        if all_:
            tables = recorded_conversations(source, parse_time(since), parse_time(until))
            code = asyncio.run(rerun_all(tables, url, admin, timeout, concurrency, as_json,
                                         console))
            raise typer.Exit(code)
        assert conversation_id is not None
        table = source.table("conversation_events", conversation_id=conversation_id)
    if table.num_rows == 0:
        raise unknown(conversation_id)
    if rerun or to_stream:
        if rerun:
            check_rerunnable(table, conversation_id)
        code = asyncio.run(rerun_one(table, conversation_id, url, admin, rerun, to_stream,
                                     timeout, as_json, console))
        raise typer.Exit(code)
    state = replay_state(table, conversation_id)
    if as_json:
        print(render.state_json(state))
        return
    render.print_state(console, state)
    found = timeline(state)
    if found is not None:
        render.print_timeline(console, found)


def register(app: typer.Typer) -> None:
    """Add ``log …`` and ``replay`` to the ``voicecore`` app (voicecore/cli.py)."""
    app.add_typer(log_app, name="log")
    app.command("replay")(replay)
