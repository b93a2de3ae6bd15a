"""The composition root: the ``voicecore`` command and the assembly of what ``up`` runs.

The one package allowed to import every layer (``schemas`` ← ``core`` ← ``bridge`` /
``orchestrator`` ← ``voicecore``); nothing imports it. One module per command group:
:mod:`~voicecore.cli` (``up``, ``worker``, ``primitives``, ``doctor``, ``schema``),
:mod:`~voicecore.call_commands` (``exec``, ``events``, ``bridge``),
:mod:`~voicecore.log_commands` (``log …``, ``replay``), sharing the option types and
helpers of :mod:`~voicecore.options`; :mod:`~voicecore.app` starts and stops the
long-lived parts. The log's presentation (:mod:`~voicecore.literal`,
:mod:`~voicecore.render`, :mod:`~voicecore.export`) and the rerun report
(:mod:`~voicecore.rerun_all`) live here too: they belong to the tools.
"""

import bridge  # noqa: F401  (first: turns gRPC's fork handlers off before grpc loads)
