"""Regenerate ``bridge/_proto/`` from ``proto/voice_core.proto`` (grpcio-tools).

Run ``python -m bridge.gen_proto`` after editing the proto; the generated files
are committed, and ``tests/bridge/test_proto.py`` checks they are up to date (the
dev extra pins grpcio-tools, so regeneration is byte for byte).

``proto/`` is mapped onto the virtual path ``bridge/_proto`` so the generated
modules import each other as ``bridge._proto.…`` (no ``sys.path`` tricks).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROTO = "voice_core.proto"
OUT = ROOT / "bridge" / "_proto"
GENERATED = ("voice_core_pb2.py", "voice_core_pb2.pyi", "voice_core_pb2_grpc.py")


def generate(out_root: Path = ROOT) -> list[Path]:
    """Write the generated modules under ``out_root/bridge/_proto``; returns their paths."""
    import grpc_tools
    from grpc_tools import protoc

    include = Path(grpc_tools.__file__).parent / "_proto"
    target = out_root / "bridge" / "_proto"
    target.mkdir(parents=True, exist_ok=True)
    args = [
        "grpc_tools.protoc",
        f"-I{include}",
        f"-Ibridge/_proto={ROOT / 'proto'}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        f"--grpc_python_out={out_root}",
        f"bridge/_proto/{PROTO}",
    ]
    if protoc.main(args) != 0:
        raise RuntimeError(f"protoc failed: {' '.join(args)}")
    return [target / name for name in GENERATED]


if __name__ == "__main__":
    for path in generate():
        print(path.relative_to(ROOT), file=sys.stdout)
