"""The price table of ``voicecore log usage``: what each engine's characters and audio cost.

A TOML file (``--prices FILE`` or ``VOICECORE_PRICES``) adds engines to
:data:`DEFAULT_PRICES` or replaces theirs; ``currency`` names what the numbers are in.
An engine in no table has no price: its cost is unknown (``None``), never a silent 0.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import msgspec

from core.errors import ConfigError
from core.text import one_line

Amount = Annotated[float, msgspec.Meta(ge=0.0, le=1e12)]
EngineName = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Currency = Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
T = TypeVar("T")

DEFAULT_PRICES = """\
currency = "USD"

[engines.piper]           # offline, on this machine
per_million_characters = 0
per_audio_hour = 0

[engines.espeak-ng]       # offline, on this machine
per_million_characters = 0
per_audio_hour = 0

[engines.gtts]            # Google Translate's voice, unofficial: free, no contract
per_million_characters = 0
per_audio_hour = 0

[engines.faster-whisper]  # offline recognition, on this machine
per_million_characters = 0
per_audio_hour = 0
"""
"""The built-in table (the README shows it)."""


class EnginePrice(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    per_million_characters: Amount = 0.0
    """Price of one million characters synthesized."""
    per_audio_hour: Amount = 0.0
    """Price of one hour of audio produced (synthesis) or heard (recognition)."""

    def cost(self, characters: int, audio_seconds: float) -> float:
        return (characters / 1e6 * self.per_million_characters
                + audio_seconds / 3600.0 * self.per_audio_hour)


class PriceTable(msgspec.Struct, frozen=True):
    currency: Currency = "USD"
    engines: dict[str, EnginePrice] = {}

    def cost(self, engine: str, characters: int, audio_seconds: float) -> float | None:
        price = self.engines.get(engine)
        return None if price is None else price.cost(characters, audio_seconds)


def _toml(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not TOML: {one_line(str(exc))}") from None


class _PriceFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The file's top level; each engine's table is checked on its own, to name it."""

    currency: Currency = "USD"
    engines: dict[EngineName, Any] = {}


def _table(data: dict[str, Any], where: str) -> PriceTable:
    top = _checked(data, _PriceFile, where, "")
    engines = {name: _checked(value, EnginePrice, where, f"engines.{name}")
               for name, value in top.engines.items()}
    return PriceTable(currency=top.currency, engines=engines)


def _checked(value: Any, type_: type[T], where: str, field: str) -> T:
    """``value`` as ``type_``, or a :class:`ConfigError` naming the file and the field:
    ``prices file p.toml: engines.gtts.per_audio_hour: expected `float`, got `str```."""
    try:
        return msgspec.convert(value, type_)
    except msgspec.ValidationError as exc:
        message, _, path = str(exc).rpartition(" - at `$")
        if not message:
            message, path = str(exc), "`"
        name = ".".join(part for part in (field, path.rstrip("`").lstrip(".")) if part)
        message = one_line(message[:1].lower() + message[1:])
        raise ConfigError(f"{where}: {name}: {message}" if name else f"{where}: {message}"
                          ) from None


def load_prices(path: Path | None) -> PriceTable:
    """:data:`DEFAULT_PRICES`, with the engines and currency of ``path`` over them."""
    defaults = _table(_toml(DEFAULT_PRICES, "built-in prices"), "built-in prices")
    if path is None:
        return defaults
    where = f"prices file {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: {getattr(exc, 'strerror', None) or one_line(str(exc))}"
                          ) from None
    data = _toml(text, where)
    given = _table(data, where)
    currency = given.currency if "currency" in data else defaults.currency
    return PriceTable(currency=currency, engines={**defaults.engines, **given.engines})


def priced(rows: Iterable[dict[str, Any]], prices: PriceTable) -> list[dict[str, Any]]:
    """Each usage row (``core.eventlog.reading.usage``) with its ``cost`` and ``currency``."""
    return [{**row, "cost": prices.cost(row["engine"], row["characters"], row["audio_seconds"]),
             "currency": prices.currency} for row in rows]


def engine_totals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The priced rows summed per engine (in order of first appearance); a total's cost is
    unknown when one of its rows' is."""
    engines = dict.fromkeys(row["engine"] for row in rows)
    return [{"engine": engine, **{key: _total([r[key] for r in rows if r["engine"] == engine])
                                  for key in ("calls", "characters", "audio_seconds", "cost")}}
            for engine in engines]


def _total(values: list[Any]) -> Any:
    return None if None in values else sum(values)
