#!/usr/bin/env bash
# The Python client's tests (python/tests), as `npm test` runs them after vitest:
#   1. a venv cached outside the repository, keyed by python/pyproject.toml (created and filled
#      with `pip install ./python[dev]` only when that file changed: fast when cached). It holds
#      the dependencies; the package itself is imported from THIS checkout's python/src
#      (PYTHONPATH below), never from the checkout that happened to create the venv;
#   2. the wire stubs regenerated from proto/ (python/build_proto.py), so they match it;
#   3. pytest, with a JUnit XML report at python/.pytest-report.xml (what .ci/run counts).
# The tests start their own Imprint server from dist/ (built by `npm test` before them).
#   IMPRINT_PYTHON   the interpreter to build the venv with (default: python3.11, else python3)
#   IMPRINT_PYTHON_CACHE  where venvs are kept (default: ~/.cache/imprint-python)
# Extra arguments go to pytest (e.g. -k subscriber). `--bench` runs python/bench/swap.py instead
# (what `npm run bench -- python` does), in the same venv and with the same stubs.
set -euo pipefail
cd "$(dirname "$0")/.."

report=python/.pytest-report.xml
rm -f "$report"
py="${IMPRINT_PYTHON:-$(command -v python3.11 || command -v python3)}"
key="$( (cat python/pyproject.toml; "$py" --version; echo deps-only) | sha256sum | cut -c1-16)"
cache="${IMPRINT_PYTHON_CACHE:-$HOME/.cache/imprint-python}"
venv="$cache/venv-$key"

if [ ! -f "$venv/.ready" ]; then
  echo "python: creating $venv"
  rm -rf "$venv"
  mkdir -p "$cache"
  "$py" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check './python[dev]'
  touch "$venv/.ready"
fi

"$venv/bin/python" python/build_proto.py
cd python
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
if [ "${1:-}" = "--bench" ]; then
  exec "$venv/bin/python" bench/swap.py
fi
exec "$venv/bin/python" -m pytest --junitxml=".pytest-report.xml" "$@"
