"""Generates the wire stubs from ../proto before setuptools collects the packages (so a fresh
checkout's build finds imprint_client._proto), then builds as pyproject.toml says."""

from __future__ import annotations

import sys
from pathlib import Path

from setuptools import setup

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_proto  # noqa: E402

if build_proto.PROTO_ROOT.is_dir():
    build_proto.main_generate()
elif not build_proto.TARGET.is_dir():
    raise SystemExit(f"no {build_proto.PROTO_ROOT} to generate the stubs from: build from a checkout of the repository")

setup()
