"""voicecore's gRPC bridge: ExecutePrimitive/StreamEvents (VoiceCore) and AudioService.

gRPC's fork handlers are turned off before grpc is first imported: since grpcio 1.81 its
child-side handler restarts an epoll poller in every ``subprocess.Popen`` child, which can
crash the child before it ``exec``s (grpc/grpc#43055; seen here as "nats-server exited at
start" under load). voicecore never uses gRPC across a fork; it only spawns programs.
"""

import os

os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
