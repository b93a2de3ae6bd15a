"""Rich tables for the log commands (people), and JSON for machines."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import msgspec
import pyarrow as pa
from rich.console import Console
from rich.table import Table

from core.eventlog.replay import RerunReport
from orchestrator.state import ConversationState


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, indent=2)


def rows_json(table: pa.Table) -> str:
    rows = table.to_pylist()
    for row in rows:
        if isinstance(row.get("data"), str):
            row["data"] = json.loads(row["data"])
    return dumps(rows)


def _short(value: Any, width: int = 48) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=_json_default)
    return text if len(text) <= width else text[: width - 1] + "…"


def _time(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if isinstance(value, dt.datetime) else ""


def summary(kind: str, data: Any) -> str:
    if not isinstance(data, dict):
        return _short(data)
    if kind == "requested":
        params = data.get("params", {})
        text = params.get("transcript") if isinstance(params, dict) else None
        return _short(text if text is not None else params)
    if kind == "completed":
        if "value" in data:
            conf = data.get("confidence")
            score = f"  ({conf:.2f})" if isinstance(conf, float) else ""
            return _short(data["value"], 40) + score
        return _short(data)
    if kind == "failed":
        return _short(f"{data.get('code', '')}: {data.get('message', '')}")
    return _short(data)


def conversations_table(table: pa.Table) -> Table:
    out = Table("conversation", "first", "last", "events", "primitives", "outcome", "redacted",
                title=f"{table.num_rows} conversation(s)")
    for row in table.to_pylist():
        out.add_row(row["conversation_id"], _time(row["first_at"]), _time(row["last_at"]),
                    str(row["events"]), ", ".join(row["primitives"]), row["outcome"],
                    "yes" if row["redacted"] else "")
    return out


def timeline_table(conversation_id: str, table: pa.Table) -> Table:
    out = Table("+ms", "seq", "event", "what", "duration", "try", "trace id",
                title=f"conversation {conversation_id}: {table.num_rows} event(s)")
    for row in table.to_pylist():
        data = json.loads(row["data"])
        duration = row["duration_ms"]
        seq = f"{row['seq']}" + (f".{row['sub']}" if row["sub"] else "")
        what = summary(row["kind"], data) + (" [redacted]" if row["redacted"] else "")
        out.add_row(f"{row['offset_ms']:.1f}", seq, row["type"], what,
                    f"{duration:.1f} ms" if duration is not None else "", str(row["attempt"]),
                    row["trace_id"])
    return out


def generic_table(table: pa.Table, max_rows: int = 1000) -> Table:
    out = Table(*table.column_names, title=f"{table.num_rows} row(s)")
    for row in table.slice(0, max_rows).to_pylist():
        out.add_row(*(_short(v, 60) for v in row.values()))
    return out


def print_state(console: Console, state: ConversationState) -> None:
    console.print(f"[bold]conversation {state.conversation_id}[/]: {state.events} event(s), "
                  f"outcome [bold]{state.outcome}[/], {_time(state.first_at)} → "
                  f"{_time(state.last_at)}" + (f", redacted x{state.redactions}"
                                               if state.redactions else ""))
    asked = Table("primitive", "purpose", "params", "request id", title="asked")
    for a in state.asked:
        asked.add_row(a.primitive, a.purpose, _short(a.params, 60), a.request_id)
    captured = Table("primitive", "value", "confidence", "confirm?", "try", title="captured")
    for c in state.captured:
        captured.add_row(c.primitive, _short(c.value), f"{c.confidence:.2f}"
                         if c.confidence is not None else "",
                         "" if c.needs_confirmation is None
                         else "yes" if c.needs_confirmation else "no",
                         str(c.attempt))
    failed = Table("primitive", "code", "message", "try", title="failed")
    for f in state.failed:
        failed.add_row(f.primitive, f.code, _short(f.message, 60), str(f.attempt))
    for table in (asked, captured, failed):
        if table.row_count:
            console.print(table)
    if state.pending:
        console.print(f"pending (no result yet): {', '.join(state.pending)}")


def state_json(state: ConversationState) -> str:
    return dumps(msgspec.to_builtins(state) | {"outcome": state.outcome})


def print_rerun(console: Console, report: RerunReport) -> None:
    table = Table("primitive", "params", "recorded", "now", "", title=(
        f"rerun of {report.conversation_id} as {report.replay_conversation_id}"))
    for c in report.comparisons:
        table.add_row(c.primitive, _short(c.params, 40), _outcome(c.recorded), _outcome(c.now),
                      "[green]same[/]" if c.same else "[red]DIFFERS[/]")
    console.print(table)


def _outcome(outcome: dict[str, Any] | None) -> str:
    if outcome is None:
        return "(no result)"
    return f"{outcome['kind']}: {summary(outcome['kind'], outcome['data'])}"
