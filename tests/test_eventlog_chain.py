"""The ingest path's hash links are the ones ``voicecore log verify`` recomputes."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from core.eventlog import chain

text = st.text(max_size=40)
optional = st.none() | text
counter = st.integers(min_value=-(2**63), max_value=2**63 - 1)
rows = st.fixed_dictionaries({
    "pos": counter, "seq": counter, "sub": counter, "subject": text, "id": text, "type": text,
    "conversation_id": text, "trace_id": text, "causation_id": optional,
    "occurred_us": st.none() | counter, "producer": text, "schema_version": counter,
    "attempt": counter, "headers": text, "data": text, "raw": optional,
    "redacted_by": optional,
}, optional={"quarantine_reason": optional})


@given(rows, st.sampled_from([chain.LOG_GENESIS, chain.conversation_genesis("c42")]), text)
def test_both_links_are_the_verified_links(row: dict[str, Any], head: str, other: str) -> None:
    log_head = chain.link(head, other.encode("utf-8", "surrogatepass"))
    assert chain.both_links(head, log_head, row) == (chain.conversation_link(head, row),
                                                     chain.log_link(log_head, row))
