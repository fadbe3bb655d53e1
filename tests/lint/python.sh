#!/bin/sh
# lint.python: the Python tests, and the build's generators in scripts/, are formatted by black
# (Debian's package black; its settings are in tests/pyproject.toml). Prints what black would
# change and fails when anything would.
#
#   tests/lint/python.sh          check
#   tests/lint/python.sh --fix    reformat in place
#
# Without black: skip (exit 77), or fail under CI=true (scripts/install-deps.sh installs it).
set -eu
tests=$(cd "$(dirname "$0")/.." && pwd)
scripts=$(cd "$tests/../scripts" && pwd)

if ! command -v black >/dev/null 2>&1; then
    case "${CI:-}" in
        [Tt][Rr][Uu][Ee])
            echo "lint.python: FAIL: CI=true and black is not installed (scripts/install-deps.sh)" >&2
            exit 1 ;;
    esac
    echo "lint.python: SKIP: black is not installed (scripts/install-deps.sh)" >&2
    exit 77
fi
if [ "${1:-}" = --fix ]; then
    exec black --config "$tests/pyproject.toml" "$tests" "$scripts"
fi
exec black --config "$tests/pyproject.toml" --check --diff "$tests" "$scripts"
