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
