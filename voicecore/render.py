"""Rich tables for the log commands (people), and JSON for machines.

Every stored value goes into a table or a line through :func:`literal.literal`
(never markup, control characters escaped); labels of our own are plain Text.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import msgspec
import pyarrow as pa
from rich.console import Console
from rich.table import Table
from rich.text import Text

from core.eventlog.readback import json_column
from orchestrator.replay import RerunReport
from orchestrator.state import ConversationState
from orchestrator.timeline import ObjectiveTimeline, Step, Timeline, timeline
from voicecore.literal import as_text, cut, literal
from voicecore.prices import engine_totals

# Columns a user copies (ids) use overflow="fold": wrapped in a narrow terminal, never cut.


def json_default(value: Any) -> Any:
    """What ``json.dumps`` writes for values JSON has no type for (times, the rest as text)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def dumps(value: Any) -> str:
    return json.dumps(value, default=json_default, indent=2)


def rows_json(table: pa.Table) -> str:
    rows = table.to_pylist()
    for row in rows:
        if "data" in row:
            row["data"] = json_column(row["data"])
    return dumps(rows)


def _time(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if isinstance(value, dt.datetime) else ""


def _number(value: Any, unit: str = "") -> str:
    return f"{value:.1f}{unit}" if isinstance(value, int | float) else ""


def summary(kind: str, data: Any) -> str:
    """What an event says, in one short string (escaped when shown, by :func:`literal`)."""
    if not isinstance(data, dict):
        return cut(as_text(data), 48)
    if kind == "requested":
        params = data.get("params", {})
        text = params.get("transcript") if isinstance(params, dict) else None
        return cut(as_text(text if text is not None else params), 48)
    if kind == "completed" and "value" in data:
        conf = data.get("confidence")
        score = f"  ({conf:.2f})" if isinstance(conf, float) else ""
        return cut(as_text(data["value"]), 40) + score
    if kind == "failed":
        return cut(f"{as_text(data.get('code', ''))}: {as_text(data.get('message', ''))}", 48)
    if isinstance(data.get("text"), str):  # a prompt, a caller's turn, a transcription
        return cut(data["text"], 48)
    return cut(as_text(data), 48)


def _what(row: dict[str, Any]) -> Text:
    if not row.get("readable", True):
        reason = row.get("quarantine_reason") or "not an event"
        return Text.assemble(("unreadable", "red"), " (", literal(reason, 60), "): ",
                             literal(row.get("raw") or row.get("data"), 48))
    text = literal(summary(row["kind"], json_column(row["data"])))
    return text.append(" (redacted)", "dim") if row["redacted"] else text


def conversations_table(table: pa.Table) -> Table:
    out = Table(title=f"{table.num_rows} conversation(s)")
    out.add_column("conversation", overflow="fold")
    for name in ("first", "last", "events", "primitives", "outcome", "status", "redacted",
                 "unreadable"):
        out.add_column(name)
    for row in table.to_pylist():
        out.add_row(literal(row["conversation_id"]), _time(row["first_at"]),
                    _time(row["last_at"]), str(row["events"]),
                    literal(", ".join(row["primitives"])), row["outcome"],
                    row.get("status") or "", "yes" if row["redacted"] else "",
                    str(row.get("unreadable") or ""))
    return out


def usage_table(rows: list[dict[str, Any]], currency: str) -> Table:
    """Usage rows (with ``cost``, see :mod:`voicecore.prices`) and a total per engine; an
    engine without a price shows ``?`` for its cost (and its total's)."""
    out = Table(title=f"usage: {len(rows)} row(s), cost in {currency}")
    out.add_column("conversation", overflow="fold")
    for name in ("engine", "calls", "characters", "audio s", "cost"):
        out.add_column(name, justify="left" if name == "engine" else "right")
    for row in rows:
        out.add_row(literal(row["conversation_id"]), *_usage_cells(row))
    out.add_section()
    for total in engine_totals(rows):
        out.add_row(Text("total", "bold"), *_usage_cells(total))
    if any(row["cost"] is None for row in rows):
        out.caption = "? = no price for this engine: give it one in a --prices file"
    return out


def _usage_cells(row: dict[str, Any]) -> list[Text | str]:
    cost = row["cost"]
    return [literal(row["engine"]), str(row["calls"]), str(row["characters"]),
            f"{row['audio_seconds']:.1f}", "?" if cost is None else f"{cost:.4f}"]


def timeline_table(conversation_id: str, table: pa.Table) -> Table:
    out = Table("+ms", "seq", "event", "what", "duration", "try",
                title=Text.assemble("conversation ", literal(conversation_id),
                                    f": {table.num_rows} entr(ies)"))
    out.add_column("trace id", overflow="fold")
    for row in table.to_pylist():
        seq = f"{row['seq']}" + (f".{row['sub']}" if row["sub"] else "")
        out.add_row(_number(row["offset_ms"]), seq, literal(row["type"]), _what(row),
                    _number(row["duration_ms"], " ms"), str(row["attempt"]),
                    literal(row["trace_id"]))
    return out


def generic_table(table: pa.Table, max_rows: int = 1000) -> Table:
    out = Table(title=f"{table.num_rows} row(s)")
    for name in table.column_names:
        out.add_column(literal(name))
    for row in table.slice(0, max_rows).to_pylist():
        out.add_row(*(literal(v, 60) for v in row.values()))
    return out


def print_state(console: Console, state: ConversationState) -> None:
    console.print(Text.assemble(
        ("conversation ", "bold"), literal(state.conversation_id, style="bold"),
        f": {state.events} entr(ies), outcome ", (state.outcome, "bold"),
        f", {_time(state.first_at)} → {_time(state.last_at)}",
        f", redacted x{state.redactions}" if state.redactions else "",
        f", {state.unreadable} not event(s) (unreadable)" if state.unreadable else ""))
    asked = Table("primitive", "purpose", "params", title="asked")
    asked.add_column("request id", overflow="fold")
    for a in state.asked:
        asked.add_row(literal(a.primitive), literal(a.purpose, 60), literal(a.params, 60),
                      literal(a.request_id))
    captured = Table("primitive", "value", "confidence", "confirm?", "try", title="captured")
    for c in state.captured:
        captured.add_row(literal(c.primitive), literal(c.value, 48), _confidence(c.confidence),
                         "" if c.needs_confirmation is None
                         else "yes" if c.needs_confirmation else "no", str(c.attempt))
    failed = Table("primitive", "code", "message", "try", title="failed")
    for f in state.failed:
        failed.add_row(literal(f.primitive), literal(f.code), literal(f.message, 60),
                       str(f.attempt))
    for table in (asked, captured, failed):
        if table.row_count:
            console.print(table)
    if state.pending:
        console.print(Text.assemble("pending (no result yet): ",
                                    literal(", ".join(state.pending))))
    if state.unmatched:
        console.print(Text.assemble("results answering no request here: ",
                                    literal(", ".join(state.unmatched))))


def _confidence(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, int | float) else literal(value).plain



def state_json(state: ConversationState) -> str:
    """The fold's state, its outcome and (with orchestrator events) the objective timeline."""
    found = timeline(state)
    extra = {} if found is None else {"timeline": msgspec.to_builtins(found)}
    return dumps(msgspec.to_builtins(state) | {"outcome": state.outcome} | extra)


def print_timeline(console: Console, found: Timeline) -> None:
    """The objective timeline: per objective its prompts, the caller's turns, the
    primitive calls and how it ended (stored text shown literally)."""
    console.print(Text.assemble(
        ("flow ", "bold"), literal(found.flow, style="bold"), " ", literal(found.version),
        ": ", (found.status, "bold"),
        *(() if not found.current else (", now at ", literal(found.current))),
        *(() if not found.end_code else (" (", literal(found.end_code), ": ",
                                         literal(found.end_reason, 80), ")"))))
    table = Table("objective", "step", "what", title="objectives")
    for objective in found.objectives:
        table.add_section()
        name = literal(objective.objective, style="bold")
        for step in objective.steps:
            table.add_row(name, *_step(step))
            name = Text("")
        table.add_row(name, Text(f"→ {objective.status}", "bold"), _ending(objective))
    console.print(table)
    if found.slots:
        console.print(Text.assemble("slots: ", literal(found.slots)))


def _step(step: Step) -> tuple[Text, Text]:
    audio = " (audio)" if step.audio else ""
    if step.step == "prompt":
        return Text(f"prompt {step.kind} #{step.attempt}"), literal(step.text).append(audio)
    if step.step == "turn":
        return Text("caller"), literal(step.text).append(audio)
    label = literal(step.primitive).append(f" ({step.kind})" if step.kind != "capture" else "")
    if step.outcome == "failed":
        return label, Text.assemble("failed: ", literal(step.code))
    if step.outcome == "completed":
        return label, Text.assemble(literal(step.value, 60), "  ", _confidence(step.confidence))
    return label, Text(step.outcome)


def _ending(objective: ObjectiveTimeline) -> Text:
    attempts = f"{objective.attempts} attempt(s)"
    if objective.status == "completed":
        if not objective.slot:
            return Text("")
        how = "confirmed, " if objective.confirmed else ""
        return Text.assemble(literal(objective.slot), " = ", literal(objective.value, 60),
                             f" ({how}{attempts})")
    if objective.status == "failed":
        return Text.assemble(literal(objective.failure_code), ": ",
                             literal(objective.failure_reason, 80), f" ({attempts})")
    if objective.confirming is not None:
        return Text.assemble("confirming ", literal(objective.confirming, 60))
    return Text("")


def print_rerun(console: Console, report: RerunReport) -> None:
    table = Table("primitive", "params", "recorded", "now", "", title=Text.assemble(
        "rerun of ", literal(report.conversation_id), " as ",
        literal(report.replay_conversation_id)))
    for c in report.comparisons:
        table.add_row(literal(c.primitive), literal(c.params, 40), _outcome(c.recorded),
                      _outcome(c.now), Text("same", "green") if c.same else Text("DIFFERS", "red"))
    console.print(table)
    if report.rejected or report.unreadable:
        console.print(f"not re-driven: {len(report.rejected)} request(s) rejected as invalid "
                      f"when recorded, {report.unreadable} unreadable entr(ies)")
    for line in report.audio_gone:
        console.print(Text(f"not re-driven: {line}"))


def _outcome(outcome: dict[str, Any] | None) -> Text:
    if outcome is None:
        return Text("(no result)")
    return literal(f"{outcome['kind']}: {summary(outcome['kind'], outcome['data'])}")
