"""voicecore orchestrator (layer 2): filled by later issues."""
