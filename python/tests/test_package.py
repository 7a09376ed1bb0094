"""The package itself: typed (mypy --strict over the sources and tests) and its stubs current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PYTHON_DIR = Path(__file__).resolve().parents[1]


def test_mypy_strict_is_clean() -> None:
    run = subprocess.run([sys.executable, "-m", "mypy", "--strict"], cwd=PYTHON_DIR, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_stubs_match_the_proto_files() -> None:
    run = subprocess.run([sys.executable, "build_proto.py", "--check"], cwd=PYTHON_DIR, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_stubs_name_no_top_level_imprint_package() -> None:
    import imprint_client.pb as pb

    assert pb.types.__name__ == "imprint_client._proto.imprint.v1.types_pb2"
    # The wire names are the contract's, not the Python module's.
    assert pb.consumer.DESCRIPTOR.services_by_name["ConsumerService"].full_name == "imprint.v1.ConsumerService"


def test_a_fresh_checkout_builds_a_wheel_with_the_stubs(tmp_path: Path) -> None:
    """What `pip install ./python` builds, from a checkout with no generated files."""
    import shutil
    import zipfile

    repo = PYTHON_DIR.parent
    shutil.copytree(repo / "proto" / "imprint", tmp_path / "proto" / "imprint")
    ignore = shutil.ignore_patterns("_proto", "__pycache__", "*.egg-info", ".*cache*", "build")
    shutil.copytree(PYTHON_DIR, tmp_path / "python", ignore=ignore)
    assert not (tmp_path / "python" / "src" / "imprint_client" / "_proto").exists()
    run = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(tmp_path / "dist"), str(tmp_path / "python")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    (wheel,) = (tmp_path / "dist").glob("imprint_client-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in ("py.typed", "pb.py", "_proto/imprint/v1/consumer_pb2.py", "_proto/imprint/v1/consumer_pb2.pyi", "_proto/imprint/v1/publisher_pb2_grpc.py"):
        assert f"imprint_client/{f}" in names, f
