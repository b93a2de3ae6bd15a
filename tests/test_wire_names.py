"""Wire names and validation patterns are defined in one place each.

Subjects, stream and consumer names live in ``core/subjects.py``; the patterns of
conversation ids, trace ids and names in ``schemas/envelope.py``. Code elsewhere uses
them from there (docstrings may still mention them).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import grpc

from bridge._proto import voice_core_pb2 as pb
from bridge._proto.voice_core_pb2_grpc import VoiceCoreServicer
from bridge.server import VoiceCoreService
from core import subjects
from schemas import events

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "bridge", "schemas", "orchestrator")
WIRE_NAMES = ("vc.ev.", "vc.dlq", "vc.presence", "vc.log", "vc.replay", "VC_EVENTS", "VC_DLQ",
              "VC_REPLAY", "$JS.", "MSG.NEXT", "VC_AUDIO", "$O.", "OBJ_")
CONSUMER_PREFIXES = ("primitive_", "eventlog_", "vc_bridge_")
"""Matched only as a whole literal (``f"primitive_{name}"``): ``primitive_executions`` is a
view's name."""
PATTERN_PIECES = ("A-Za-z0-9_-", "x21-", "a-z][a-z0-9_]")
OWNERS = {"core/subjects.py": WIRE_NAMES + CONSUMER_PREFIXES, "schemas/envelope.py": PATTERN_PIECES}


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant):
            found.add(id(body[0].value))
    return found


def _string_constants(path: Path) -> list[tuple[int, str]]:
    """Every string literal in ``path`` (f-string parts included) but its docstrings and
    prose: text with spaces or a ``<placeholder>`` (help, messages) shows names, it does
    not build them."""
    tree = ast.parse(path.read_text(), str(path))
    skip = _docstrings(tree)
    # Module-level string expressions right after an assignment document it.
    skip |= {id(n.value) for n in ast.walk(tree)
             if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in skip
            and not any(c.isspace() or c == "<" for c in n.value)]


def test_wire_names_and_patterns_are_written_only_where_they_are_defined() -> None:
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            where = path.relative_to(ROOT).as_posix()
            if "_proto" in where or "/capture/" in where:
                continue
            allowed = OWNERS.get(where, ())
            for line, text in _string_constants(path):
                found = [n for n in WIRE_NAMES + PATTERN_PIECES if n in text]
                found += [n for n in CONSUMER_PREFIXES if n == text]
                offenders += [f"{where}:{line}: {name!r} in {text[:60]!r}"
                              for name in found if name not in allowed]
    assert not offenders, "\n".join(offenders)


def test_one_pattern_checks_both_the_schema_and_the_subjects() -> None:
    for value, ok in (("c42", True), ("a" * 128, True), ("a" * 129, False), ("c.42", False),
                      ("c42\n", False), ("", False)):
        assert (re.fullmatch(events.CONVERSATION_ID_PATTERN, value) is not None) is ok
        try:
            subjects.check_conversation_id(value)
            accepted = True
        except ValueError:
            accepted = False
        assert accepted is ok, value
    assert subjects.is_event_type_filter("*.failed")
    assert subjects.is_event_type_filter("capture_email.completed")
    assert not subjects.is_event_type_filter("capture_email")
    assert not subjects.is_event_type_filter("Capture.completed")


def test_the_service_is_the_generated_servicer_with_every_method_implemented() -> None:
    assert issubclass(VoiceCoreService, VoiceCoreServicer)
    for method in pb.DESCRIPTOR.services_by_name["VoiceCore"].methods:
        assert getattr(VoiceCoreService, method.name) is not getattr(
            VoiceCoreServicer, method.name), f"{method.name} is not implemented"


def test_add_voice_core_registers_every_method_of_the_proto() -> None:
    from bridge.server import add_voice_core

    class Recorder:
        def __init__(self) -> None:
            self.registered: dict[str, dict[str, grpc.RpcMethodHandler]] = {}

        def add_generic_rpc_handlers(self, handlers: object) -> None:
            pass

        def add_registered_method_handlers(self, service: str,
                                           handlers: dict[str, grpc.RpcMethodHandler]) -> None:
            self.registered[service] = handlers

    server = Recorder()
    add_voice_core(VoiceCoreServicer(), server)
    service = pb.DESCRIPTOR.services_by_name["VoiceCore"]
    handlers = server.registered[service.full_name]
    assert sorted(handlers) == sorted(m.name for m in service.methods)
    for method in service.methods:
        handler = handlers[method.name]
        assert bool(handler.response_streaming) == method.server_streaming
        assert handler.request_deserializer(b"\xff") is not None  # never raises
