"""The DuckDB event log: the permanent, tamper-evident record of every event.

* :mod:`~core.eventlog.sink` (over :mod:`core.consumer`) copies VC_EVENTS into
  ``<data dir>/eventlog.duckdb`` exactly once; :mod:`~core.eventlog.store` writes
  Arrow batches; :mod:`~core.eventlog.rows` turns a message into a row (an event, or
  quarantined with the reason), and :mod:`~core.eventlog.readback` a row back into the
  event it was (the one read-back conversion); :mod:`~core.eventlog.schema` holds the
  tables and the view that needs no conversation model (``primitive_executions`` and
  ``conversations`` are built from the fold's rule in :mod:`orchestrator.views` and
  passed in by whoever opens the log to write);
  :mod:`~core.eventlog.progress` tells HealthCheck and doctor whether a sink keeps up;
* :mod:`~core.eventlog.service` answers read-only queries while the sink runs, and
  :mod:`~core.eventlog.client` picks the file or that service for the CLI;
* :mod:`~core.eventlog.chain`/:mod:`~core.eventlog.verify`: hash chains and their check;
* :mod:`~core.eventlog.redact`: what redaction removes.

Above the core: replay (:mod:`orchestrator.replay`), and the tools
(:mod:`voicecore.log_commands`: ``voicecore log …``/``replay``; rendering, export and
the rerun report; :mod:`voicecore.log_sink`: the sink as a process of its own).
"""
