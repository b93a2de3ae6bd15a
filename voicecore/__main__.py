"""``python -m voicecore``: the ``voicecore`` command."""

from voicecore.cli import main

main()
