"""voicecore bridge (layer 1): filled by later issues."""
