"""voicecore layer 1: the voice core (primitives, worker runtime, embedded NATS, CLI)."""
