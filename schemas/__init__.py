"""Event schemas of voicecore: the envelope, every event type, and their codec."""
