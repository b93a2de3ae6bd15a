"""Loading a flow file: YAML → :class:`orchestrator.flow.Flow`, every error at its line.

Every error is one line naming the file, the line and column (1-based) and the field,
as compilers do, so an editor can jump to it::

    flows/x.yaml:14:7: objectives[1].max_attempts: Expected `int` >= 1, got `0`

msgspec validates the shape and reports a path (``$.objectives[1].max_attempts``); the
path is walked down the YAML node tree (``yaml.compose`` keeps every node's position)
to the node it names. What msgspec cannot check is checked here, at the offending node:
duplicate YAML keys, unique objective ids, ``say`` xor ``primitive``, a prompt for every
primitive objective, ``goto`` targets that exist, templates that use only slots filled by
*earlier* objectives (an objective's ``confirm_prompt`` may use its own slot; the flow's
``fallback`` none: it can be said at any time), and primitives this voice core knows (the
composition root passes the registry's names).

A flow's *version* is the sha256 of the file's bytes; :class:`LoadedFlow` carries the
document itself too, so a conversation's events hold everything needed to drive it
again (:class:`schemas.conversation.FlowRef`), and :func:`parse_flow` reloads it from there.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import yaml

from core.errors import ConfigError
from orchestrator.flow import Flow, Goto, Objective
from schemas.conversation import FlowRef

PathPart = str | int
_MSGSPEC_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_PATH_PART = re.compile(r"\.(?P<key>[^.\[]+)|\[(?P<index>\d+)\]")
_UNKNOWN_FIELD = re.compile(r"unknown field `(?P<key>[^`]+)`")
TEMPLATE_FIELDS = ("say", "prompt", "reprompts", "confirm_prompt")
"""The objective fields spoken to the caller, filled from the slots."""


@dataclass(frozen=True)
class LoadedFlow:
    flow: Flow
    version: str
    """sha256 (hex) of the file's bytes."""
    document: str
    source: str

    @property
    def ref(self) -> FlowRef:
        return FlowRef(name=self.flow.name, version=self.version, document=self.document)


def load_flow(path: Path, primitives: Collection[str] | None = None) -> LoadedFlow:
    """Load and check the flow file at ``path``; :class:`ConfigError` names the line."""
    try:
        document = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the flow file: {exc.strerror or exc}") from exc
    return parse_flow(document, str(path), primitives)


def parse_flow(document: bytes | str, source: str = "<flow>",
               primitives: Collection[str] | None = None) -> LoadedFlow:
    """Check a flow document (``source`` names it in errors); ``primitives``: the names
    an objective may use (``None``: any)."""
    raw = document.encode() if isinstance(document, str) else document
    try:
        text = raw.decode()
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: not UTF-8 text (byte {exc.start})") from exc
    root = _compose(text, source)
    data = _construct(root)
    try:
        flow = msgspec.convert(data, Flow)
    except msgspec.ValidationError as exc:
        raise _validation_error(source, root, str(exc)) from exc
    _Checker(root, source, primitives, flow).check()
    return LoadedFlow(flow, hashlib.sha256(raw).hexdigest(), text, source)


# --- YAML ------------------------------------------------------------------------------


def _compose(text: str, source: str) -> yaml.Node:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark, context = exc.problem_mark or exc.context_mark, exc.context_mark
        where = f"{mark.line + 1}:{mark.column + 1}: " if mark is not None else ""
        started = (f" ({exc.context} on line {context.line + 1})"
                   if exc.context and context is not None and context is not mark else "")
        raise ConfigError(f"{source}:{where}not valid YAML: {exc.problem or exc}{started}") \
            from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    if root is None:
        raise ConfigError(f"{source}:1:1: empty: a flow needs a name and objectives")
    for path, mapping in _mappings(root, []):
        _no_duplicate_keys(mapping, path, source)
    return root


def _construct(root: yaml.Node) -> Any:
    """The Python value of the composed document (safe types only)."""
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(root)
    finally:
        loader.dispose()


def _mappings(node: yaml.Node, path: list[PathPart]
              ) -> Iterator[tuple[list[PathPart], yaml.MappingNode]]:
    """Every mapping of the document with its path (keys that are no scalar: ``?``)."""
    if isinstance(node, yaml.MappingNode):
        yield path, node
        for key, value in node.value:
            yield from _mappings(value, [*path, getattr(key, "value", "?")])
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _mappings(item, [*path, i])


def _no_duplicate_keys(mapping: yaml.MappingNode, path: list[PathPart], source: str) -> None:
    seen: dict[Any, yaml.Node] = {}
    for key, _ in mapping.value:
        name = key.value if isinstance(key, yaml.ScalarNode) else id(key)
        if name in seen:
            first = seen[name].start_mark.line + 1
            raise ConfigError(f"{_at(source, key)}: {_field([*path, name])}: duplicate key "
                              f"(first on line {first})")
        seen[name] = key


def _at(source: str, node: yaml.Node) -> str:
    return f"{source}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"


def _node_at(root: yaml.Node, path: list[PathPart], key: bool = False) -> yaml.Node:
    """The node at ``path`` (its key node with ``key``), else the deepest one that exists."""
    node = root
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if isinstance(part, int) and isinstance(node, yaml.SequenceNode):
            if part >= len(node.value):
                return node
            node = node.value[part]
        elif isinstance(part, str) and isinstance(node, yaml.MappingNode):
            found = [(k, v) for k, v in node.value if getattr(k, "value", None) == part]
            if not found:
                return node
            node = found[0][0] if key and last else found[0][1]
        else:
            return node
    return node


def _field(path: list[PathPart]) -> str:
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    return text.lstrip(".") or "(the document)"


def _error(source: str, root: yaml.Node, path: list[PathPart], why: str,
           key: bool = False) -> ConfigError:
    return ConfigError(f"{_at(source, _node_at(root, path, key))}: {_field(path)}: {why}")


def _validation_error(source: str, root: yaml.Node, message: str) -> ConfigError:
    """msgspec's ``… - at `$.a[1].b``` as ``file:line:col: a[1].b: …``."""
    found = _MSGSPEC_PATH.search(message)
    path: list[PathPart] = []
    if found is not None:
        message = message[:found.start()]
        for part in _PATH_PART.finditer(found.group("path")):
            index = part.group("index")
            path.append(int(index) if index is not None else part.group("key"))
    unknown = _UNKNOWN_FIELD.search(message)
    if unknown is not None:  # point at the unknown key itself, not its mapping
        path.append(unknown.group("key"))
        return _error(source, root, path, "unknown field (a typo?)", key=True)
    node = _node_at(root, path)
    if message.startswith("Expected") and ", got" not in message \
            and isinstance(node, yaml.ScalarNode):
        message += f", got {node.value!r}"  # msgspec's convert names no value
    return _error(source, root, path, message.replace("`", ""))


# --- what msgspec cannot check ------------------------------------------------------


@dataclass
class _Checker:
    root: yaml.Node
    source: str
    primitives: Collection[str] | None
    flow: Flow

    def error(self, path: list[PathPart], why: str) -> ConfigError:
        return _error(self.source, self.root, path, why)

    def check(self) -> None:
        objectives = self.flow.objectives
        if not objectives:
            raise self.error(["objectives"], "a flow needs at least one objective")
        ids = [o.id for o in objectives]
        filled: list[str] = []
        for i, objective in enumerate(objectives):
            where: list[PathPart] = ["objectives", i]
            if objective.id in ids[:i]:
                raise self.error([*where, "id"], f"duplicate objective id {objective.id!r} "
                                 f"(also objectives[{ids.index(objective.id)}])")
            self.objective(objective, where, ids)
            own = _slot(objective)
            self.templates(objective, where, filled, own)
            if own:
                filled.append(own)
        self.template(self.flow.fallback, ["fallback"], [], anytime=True)

    def objective(self, objective: Objective, where: list[PathPart], ids: list[str]) -> None:
        if (objective.say is None) == (objective.primitive is None):
            both = "not both" if objective.say is not None else "and has neither"
            raise self.error(where, "an objective has either `say` (a line) or `primitive` "
                             f"(a question), {both}")
        if objective.primitive is not None:
            known = self.primitives
            if known is not None and objective.primitive not in known:
                raise self.error([*where, "primitive"],
                                 f"unknown primitive {objective.primitive!r} "
                                 f"(known: {', '.join(sorted(known))})")
            if objective.prompt is None:
                raise self.error(where, "a primitive objective needs a `prompt`")
        if isinstance(objective.on_failure, Goto) and objective.on_failure.goto not in ids:
            raise self.error([*where, "on_failure", "goto"],
                             f"no objective {objective.on_failure.goto!r} to go to")

    def templates(self, objective: Objective, where: list[PathPart], filled: list[str],
                  own: str) -> None:
        for name in TEMPLATE_FIELDS:
            value = getattr(objective, name)
            texts = enumerate(value) if isinstance(value, tuple) else [(None, value)]
            for index, text in texts:
                if text is not None:
                    path = [*where, name] + ([] if index is None else [index])
                    usable = [*filled, own] if own and name == "confirm_prompt" else filled
                    self.template(text, path, usable)

    def template(self, text: str, path: list[PathPart], usable: list[str],
                 anytime: bool = False) -> None:
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
        except ValueError as exc:
            raise self.error(path, f"not a template: {exc} (write {{{{ for a brace)") from exc
        for field in fields:
            if field not in usable:
                why = ("the fallback may be said before any slot is filled" if anytime
                       else self.why_unknown(field))
                raise self.error(path, f"unknown slot {{{field}}}: {why}")

    def why_unknown(self, field: str) -> str:
        later = [o.id for o in self.flow.objectives if _slot(o) == field]
        if later:
            return f"objective {later[0]!r} fills it, but only later"
        slots = [s for s in map(_slot, self.flow.objectives) if s]
        return f"no objective fills it (slots: {', '.join(slots) or 'none'})"


def _slot(objective: Objective) -> str:
    """The slot a primitive objective fills (its ``slot``, else its id); ``""`` for a line."""
    if objective.primitive is None:
        return ""
    return objective.slot or objective.id
