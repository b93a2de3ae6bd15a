"""The ingest path's hash links are the ones ``voicecore log verify`` recomputes."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from core.eventlog import chain
from core.eventlog.batch import RowBatch, chain_texts

text = st.text(max_size=40)
optional = st.none() | text
int64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
int32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)
rows = st.fixed_dictionaries({  # a value of every type its column holds
    "seq": int64, "sub": int32, "subject": text, "id": text, "type": text,
    "source": text, "kind": text, "conversation_id": st.sampled_from(["c1", "c2", "c.3"]),
    "trace_id": text, "causation_id": optional, "occurred_us": st.none() | int64,
    "producer": text, "schema_version": int32, "attempt": int32, "headers": text,
    "data": text, "raw": optional, "redacted_by": optional, "quarantine_reason": optional,
})


@given(st.lists(rows, min_size=1, max_size=8), int64, st.sampled_from(["", "c1"]))
def test_the_ingest_links_are_the_verified_links(batch: list[dict[str, Any]], first_pos: int,
                                                 known: str) -> None:
    first_pos = min(first_pos, 2**63 - 1 - len(batch))
    heads = {known: chain.conversation_genesis("elsewhere")} if known else {}
    arrays = RowBatch.of_rows([(0, "", b"", None)] * len(batch), batch).arrays(first_pos)
    hashes, log_hashes = chain.links(*chain_texts(arrays), [r["conversation_id"] for r in batch],
                                     dict(heads), chain.LOG_GENESIS)

    log_head = chain.LOG_GENESIS
    for pos, (row, hash_, log_hash) in enumerate(zip(batch, hashes, log_hashes, strict=True),
                                                 first_pos):
        row = {**row, "pos": pos}
        if row.get("quarantine_reason") is None:
            del row["quarantine_reason"]  # a row logged before the column: hashed without it
        cid = row["conversation_id"]
        head = heads.get(cid) or chain.conversation_genesis(cid)
        heads[cid] = chain.conversation_link(head, row)
        log_head = chain.log_link(log_head, row)
        assert (hash_, log_hash) == (heads[cid], log_head)
