"""voicecore layer 1: the voice core (primitives, worker runtime, embedded NATS, event log).

Imports only ``schemas``; the ``voicecore`` command and the assembly of these parts live
above every layer, in the ``voicecore`` package.
"""
