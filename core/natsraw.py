"""Receiving from NATS with less Python per message: the parser of every Bus connection.

nats-py's parser tries a regular expression per operation on each control line
(``MSG`` first, then ``HMSG``), cuts each message off the front of its buffer,
parses every header block into a dict, builds a ``Msg`` and queues it for a task
that calls the subscription's coroutine callback. For the event-log sink that was
about half of its CPU per event (benchmarks/HISTORY.md, the event log's sink).

:func:`install` makes a connection's parser a :class:`FastParser`: it reads the
messages of one socket read in one pass (a ``find`` and a ``split`` per control
line, slices of one copy of the buffer) and hands the messages of a **raw**
subscription (:func:`subscribe`) straight to its plain callback as a
:class:`RawMsg` (subject, reply, body, and the header block left unparsed until
someone reads :attr:`RawMsg.headers`). Every other message goes to nats-py's own
``_process_msg`` with the same arguments its parser passes, and every other
operation (``PING``, ``PONG``, ``INFO``, ``+OK``, ``-ERR``) to nats-py's parser.
Written against nats-py 2.16 (``constraints.txt``); ``tests/test_natsraw.py`` checks
it on a real server.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

from nats.aio.client import Client
from nats.aio.subscription import Subscription
from nats.errors import ProtocolError
from nats.protocol.parser import AWAITING_CONTROL_LINE, Parser

from core.pullstatus import DESCRIPTION, STATUS

_MESSAGE_OPS = (b"MSG ", b"HMSG ")
_HEADER_LINE = b"NATS/1.0"
_BYTES_SPACE = " \t\n\r\x0b\x0c"
_SPACE = re.compile(r"\s")  # str.isspace(), as nats-py checks names


def header_dict(block: bytes | None) -> dict[str, str] | None:
    """A header block as nats-py reads it: ``Name: value`` lines, and a status line's code
    and description as ``Status`` and ``Description``."""
    if not block:
        return None
    first, _, lines = block.partition(b"\r\n")
    found = header_lines(lines)
    if first == _HEADER_LINE:  # no status: every message but the server's own
        return found or None
    code, _, description = first[len(_HEADER_LINE):].strip().partition(b" ")
    if code.isdigit():
        found[STATUS] = code.decode()
    if description:
        found[DESCRIPTION] = description.decode("utf-8", "replace")
    return found or None


def header_lines(lines: bytes) -> dict[str, str]:
    """nats-py's ``Client._parse_header_lines``, in half its time when ``lines`` are ASCII
    (the same dict: ``tests/test_natsraw.py`` compares them on random blocks)."""
    try:
        text = lines.decode("ascii")
    except UnicodeDecodeError:
        return Client._parse_header_lines(lines)
    found = {}
    for line in text.split("\r\n"):
        name, colon, value = line.partition(":")
        if colon:
            key = name.strip(_BYTES_SPACE)  # what ``bytes.strip`` strips, not ``str.strip``
            if _SPACE.search(key) is None:  # nats-py drops a name with a space in it
                found[key] = value.strip(_BYTES_SPACE)
    return found


class RawMsg(NamedTuple):
    """One message of a raw subscription."""

    subject: str
    reply: str
    data: bytes
    header: bytes | None
    """The header block as received (``NATS/1.0[ status]\\r\\nName: value\\r\\n…``)."""

    @property
    def headers(self) -> dict[str, str] | None:
        return header_dict(self.header)


RawHandler = Callable[[RawMsg], None]
_new = tuple.__new__  # RawMsg(...) in half the time (no Python-level __new__)


class FastParser(Parser):
    """nats-py's parser with messages read in one pass (see the module docstring)."""

    raw: dict[int, RawHandler]
    """Raw subscriptions' callbacks by subscription id."""
    wanted: int
    """Bytes the buffer must hold before a message in it is complete."""

    def reset(self) -> None:
        super().reset()
        self.wanted = 0

    async def parse(self, data: bytes = b"") -> None:
        self.buf.extend(data)
        while self.buf and len(self.buf) >= self.wanted:
            if self.state != AWAITING_CONTROL_LINE:  # mid-message (installed during a read,
                await super().parse()  # or a message line only nats-py's regex reads)
                return
            if self.buf.startswith(_MESSAGE_OPS):
                if not await self._messages():
                    return
            elif not await self._control_line():
                return

    async def _messages(self) -> bool:
        """Deliver the complete messages at the start of the buffer; False: wait for more."""
        buf, raw = self.buf, self.raw
        data = bytes(buf)
        pos = done = self.wanted = 0  # done: bytes of ``data`` already cut from ``buf``
        try:
            while data.startswith(_MESSAGE_OPS, pos):
                end = data.find(b"\r\n", pos)
                if end < 0:
                    return False
                subject, sid, reply, header_size, size = _message_line(data[pos:end])
                start = end + 2
                stop = start + size
                if stop + 2 > len(data):
                    self.wanted = stop + 2 - pos
                    return False
                header = data[start:start + header_size] if header_size else None
                body = data[start + header_size:stop]
                pos = stop + 2
                handler = raw.get(sid)
                if handler is not None:
                    handler(_new(RawMsg, (subject.decode(), reply.decode(), body, header)))
                    continue
                del buf[:pos - done]
                done = pos
                await self.nc._process_msg(sid, subject, reply, body, header)
                if self.buf is not buf:  # reset meanwhile (a reconnect): the rest is stale
                    return False
            return True
        finally:
            if self.buf is buf:
                del buf[:pos - done]

    async def _control_line(self) -> bool:
        """One operation other than a message, by nats-py's parser; False: wait for more."""
        end = self.buf.find(b"\r\n")
        if end < 0:
            return False
        line, rest = self.buf[:end + 2], self.buf[end + 2:]
        self.buf = line
        await super().parse()
        if self.buf is not line:  # reset meanwhile (a reconnect): the rest is stale
            return False
        self.buf = line + rest  # empty ``line`` unless nats-py awaits more of a message
        return True


def _message_line(line: bytes) -> tuple[bytes, int, bytes, int, int]:
    """``MSG <subject> <sid> [reply] <size>`` or ``HMSG <subject> <sid> [reply] <header
    size> <size>``: (subject, sid, reply, header size, size)."""
    args = line.split()
    headers = args[0] == b"HMSG"
    count = len(args) - headers
    if count not in (4, 5):
        raise ProtocolError("nats: malformed MSG")
    try:
        return (args[1], int(args[2]), args[3] if count == 5 else b"",
                int(args[-2]) if headers else 0, int(args[-1]))
    except ValueError:
        raise ProtocolError("nats: malformed MSG") from None


def install(nc: Client) -> None:
    """Make ``nc``'s parser a :class:`FastParser` (the same object: a read under way
    continues with its state)."""
    parser: Any = nc._ps
    if not isinstance(parser, FastParser):
        parser.raw, parser.wanted = {}, 0
        parser.__class__ = FastParser


async def subscribe(nc: Client, subject: str, handler: RawHandler) -> Subscription:
    """Subscribe ``handler`` to ``subject`` raw: called from the connection's read loop with
    each message, in order (it must not block); undo with :func:`unsubscribe`."""
    sub = await nc.subscribe(subject)
    _handlers(nc)[sub._id] = handler
    return sub


async def unsubscribe(nc: Client, sub: Subscription) -> None:
    """Unsubscribe ``sub`` (raw or not)."""
    _handlers(nc).pop(sub._id, None)
    await sub.unsubscribe()


def _handlers(nc: Client) -> dict[int, RawHandler]:
    install(nc)
    parser: Any = nc._ps
    handlers: dict[int, RawHandler] = parser.raw
    return handlers
