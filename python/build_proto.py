"""Generates the wire stubs from the repository's proto/ into src/imprint_client/_proto.

    python build_proto.py           regenerate (setup.py runs this when the package is built)
    python build_proto.py --check   exit 1 when src/imprint_client/_proto is missing or stale

protoc (grpcio-tools) writes the message modules, mypy-protobuf their typed .pyi files, and
grpcio-tools the service stubs. protoc names the modules by their proto path
(``imprint.v1.types_pb2``); they are moved under ``imprint_client._proto`` so the package owns
no top-level ``imprint`` name.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTO_ROOT = HERE.parent / "proto"
TARGET = HERE / "src" / "imprint_client" / "_proto"
PACKAGE = "imprint_client._proto"

# `from imprint.v1 import x_pb2`, `import imprint.v1.x_pb2` and, in the .pyi files,
# `imprint.v1.x_pb2.Name`: module references only, never the wire names inside strings
# ('imprint.v1.ConsumerService', '/imprint.v1.ConsumerService/Poll').
_MODULE_REF = re.compile(r"(?<![\w.'\"/])imprint\.v1(?=\.\w+_pb2\b| import )")


def proto_files() -> list[str]:
    return sorted(f"imprint/v1/{p.name}" for p in (PROTO_ROOT / "imprint" / "v1").glob("*.proto"))


def _plugin(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        raise SystemExit(f"{name} not found: install mypy-protobuf")
    return found


def generate(out: Path) -> None:
    """Writes the stubs into `out` (a fresh directory)."""
    import grpc_tools  # the build requirement; imported here so --help needs nothing
    from grpc_tools import protoc

    raw = Path(tempfile.mkdtemp(prefix="imprint-pygen-"))
    try:
        well_known = str(Path(grpc_tools.__file__).parent / "_proto")
        args = [
            "protoc",
            f"-I{PROTO_ROOT}",
            f"-I{well_known}",
            f"--plugin=protoc-gen-mypy={_plugin('protoc-gen-mypy')}",
            f"--plugin=protoc-gen-mypy_grpc={_plugin('protoc-gen-mypy_grpc')}",
            f"--python_out={raw}",
            f"--grpc_python_out={raw}",
            f"--mypy_out={raw}",
            f"--mypy_grpc_out={raw}",
            *proto_files(),
        ]
        if protoc.main(args) != 0:
            raise SystemExit("protoc failed")
        out.mkdir(parents=True, exist_ok=True)
        (out / "__init__.py").write_text('"""Generated from proto/ by python/build_proto.py; do not edit."""\n')
        (out / "imprint").mkdir(exist_ok=True)
        (out / "imprint" / "__init__.py").write_text("")
        (out / "imprint" / "v1").mkdir(exist_ok=True)
        (out / "imprint" / "v1" / "__init__.py").write_text("")
        for f in sorted((raw / "imprint" / "v1").iterdir()):
            text = _MODULE_REF.sub(f"{PACKAGE}.imprint.v1", f.read_text())
            (out / "imprint" / "v1" / f.name).write_text(text)
    finally:
        shutil.rmtree(raw, ignore_errors=True)


def stale(target: Path = TARGET) -> list[str]:
    """The files that differ between `target` and a fresh generation (empty: current)."""
    fresh = Path(tempfile.mkdtemp(prefix="imprint-pygen-check-"))
    try:
        generate(fresh)
        diffs: list[str] = []
        for f in sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file()):
            if not (target / f).is_file() or not filecmp.cmp(fresh / f, target / f, shallow=False):
                diffs.append(str(f))
        return diffs
    finally:
        shutil.rmtree(fresh, ignore_errors=True)


def main_generate() -> None:
    shutil.rmtree(TARGET, ignore_errors=True)
    generate(TARGET)


def main() -> None:
    if "--check" in sys.argv[1:]:
        diffs = stale()
        if diffs:
            print("stale stubs: " + ", ".join(diffs) + "; run python/build_proto.py", file=sys.stderr)
            raise SystemExit(1)
        print("python stubs are up to date")
        return
    main_generate()


if __name__ == "__main__":
    os.chdir(HERE)
    main()
