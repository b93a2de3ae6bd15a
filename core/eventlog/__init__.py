"""The DuckDB event log: the permanent, tamper-evident record of every event.

* :mod:`~core.eventlog.sink` (+ :mod:`~core.eventlog.puller`) copies VC_EVENTS into
  ``<data dir>/eventlog.duckdb`` exactly once; :mod:`~core.eventlog.store` writes
  Arrow batches; :mod:`~core.eventlog.rows` turns a message into a row (an event, or
  quarantined with the reason); :mod:`~core.eventlog.schema` holds the tables and views;
  :mod:`~core.eventlog.progress` tells HealthCheck and doctor whether a sink keeps up;
* :mod:`~core.eventlog.service` answers read-only queries while the sink runs, and
  :mod:`~core.eventlog.client` picks the file or that service for the CLI;
* :mod:`~core.eventlog.chain`/:mod:`~core.eventlog.verify`: hash chains and their check;
* :mod:`~core.eventlog.redact`: what redaction removes;
* :mod:`~core.eventlog.replay` (+ :mod:`~core.eventlog.rerun_all`): fold, rerun and
  republish a logged conversation; :mod:`~core.eventlog.cli`: ``voicecore log …``/``replay``.
"""
