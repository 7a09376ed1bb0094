"""Generates the wire stubs from ../proto before the package's modules are collected."""

from __future__ import annotations

import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_proto  # noqa: E402


class BuildWithStubs(build_py):
    def run(self) -> None:
        if build_proto.PROTO_ROOT.is_dir():
            build_proto.main_generate()
        elif not build_proto.TARGET.is_dir():
            raise SystemExit(f"no {build_proto.PROTO_ROOT} to generate the stubs from: build from a checkout of the repository")
        super().run()


setup(cmdclass={"build_py": BuildWithStubs})
