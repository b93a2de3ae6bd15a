"""Text to speech: engines behind one small interface (:mod:`core.tts.engine`), sentence
splitting (:mod:`core.tts.sentences`) and the named voices (:mod:`core.tts.voices`)."""
