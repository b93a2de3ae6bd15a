"""Speech to text: where a Whisper model comes from (:mod:`core.stt.models`), the one shared
model of a process and its transcriber (:mod:`core.stt.whisper`), and the objective hints
that steer it (:mod:`core.stt.hints`)."""
