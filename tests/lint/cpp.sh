#!/bin/sh
# lint.cpp: the C++ of src/, tests/ and bench/ is as .clang-format (clang-format 14)
# wants it. Prints what would change and fails when anything would.
#
#   tests/lint/cpp.sh          check
#   tests/lint/cpp.sh --fix    reformat in place
#
# Without clang-format: skip (exit 77), or fail under CI=true (scripts/install-deps.sh installs it).
set -eu
cd "$(dirname "$0")/../.."
format=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$format" ]; then
    case "${CI:-}" in
        [Tt][Rr][Uu][Ee])
            echo "lint.cpp: FAIL: CI=true and clang-format is not installed (scripts/install-deps.sh)" >&2
            exit 1 ;;
    esac
    echo "lint.cpp: SKIP: clang-format is not installed (scripts/install-deps.sh)" >&2
    exit 77
fi
files=$(find src tests bench -name '*.cpp' -o -name '*.hpp' | sort)
if [ "${1:-}" = --fix ]; then
    # shellcheck disable=SC2086
    exec "$format" -i $files
fi
# shellcheck disable=SC2086
if ! "$format" --dry-run --Werror $files; then
    echo "lint.cpp: FAIL: run tests/lint/cpp.sh --fix" >&2
    exit 1
fi
echo "lint.cpp: $(echo "$files" | wc -l) files as .clang-format wants them"
