"""Regenerate ``bridge/_proto/`` from ``proto/*.proto`` (grpcio-tools).

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
PROTOS = ("voice_core.proto", "audio_service.proto")
OUT = ROOT / "bridge" / "_proto"
GENERATED = tuple(f"{Path(proto).stem}{suffix}" for proto in PROTOS
                  for suffix in ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py"))


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
        *(f"bridge/_proto/{proto}" for proto in PROTOS),
    ]
    if protoc.main(args) != 0:
        raise RuntimeError(f"protoc failed: {' '.join(args)}")
    return [target / name for name in GENERATED]


if __name__ == "__main__":
    for path in generate():
        print(path.relative_to(ROOT), file=sys.stdout)
