#!/usr/bin/env bash
# Runs every bench/*.bench.sh in name order and writes what they print to
# bench/results/<date>.txt as well as the terminal. See bench/README.md.
#
#   bench/run.sh [NAME...]     (or: make bench)
#
# With NAMEs (e.g. `rpc`), only bench/NAME.bench.sh runs.
# BIN names the directory with the built executables; it defaults to the
# release build (`swift build -c release --show-bin-path`).
#
# Each bench file runs in its own subshell that first sources bench/lib.sh, so
# its daemons, temporary directory and trap are its own; one failing bench file
# does not stop the others, but makes this script exit non-zero.
set -euo pipefail

export PATH="/opt/swift/usr/bin:$PATH"
BENCH_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH_HOME/.." && pwd)"
cd "$REPO"

if [[ -z "${BIN:-}" ]]; then
    BIN="$(swift build -c release --show-bin-path)"
fi
BIN="$(cd "$BIN" && pwd)"
export BIN

if [[ "$(id -u)" -ne 0 ]]; then
    echo "bench: run as root (containerd and berthd manage mounts and cgroups)" >&2
    exit 1
fi

benches=()
if (($# > 0)); then
    for name in "$@"; do
        f="$BENCH_HOME/${name%.bench.sh}.bench.sh"
        [[ -f "$f" ]] || { echo "bench: no such bench: $f" >&2; exit 1; }
        benches+=("$f")
    done
else
    for f in "$BENCH_HOME"/*.bench.sh; do
        [[ -e "$f" ]] && benches+=("$f")
    done
fi
if ((${#benches[@]} == 0)); then
    echo "bench: no bench/*.bench.sh files" >&2
    exit 1
fi

mkdir -p "$BENCH_HOME/results"
RESULT="$BENCH_HOME/results/$(date +%Y-%m-%dT%H%M%S).txt"

header() {
    echo "# berth bench $(date -Iseconds)"
    echo "# host:       $(uname -n) $(uname -r) $(uname -m)"
    echo "# cpu:        $(nproc) x $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
    echo "# berth:      $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown)"
    echo "# bin:        $BIN"
    echo "# swift:      $(swift --version 2>/dev/null | head -n 1 || echo unknown)"
    echo "# containerd: $(containerd --version 2>/dev/null || echo missing)"
    echo "# runc:       $(runc --version 2>/dev/null | head -n 1 || echo missing)"
    echo "# hyperfine:  $(hyperfine --version 2>/dev/null || echo missing)"
}

run_all() {
    set -euo pipefail
    local bench_file rc failed=()
    header
    for bench_file in "${benches[@]}"; do
        echo
        echo "=== $(basename "$bench_file" .bench.sh)"
        # set +e around the subshell (not `|| ...`): inside a `||` list bash
        # would ignore `set -e` in the bench file too.
        set +e
        (
            set -euo pipefail
            # shellcheck source=bench/lib.sh
            source "$BENCH_HOME/lib.sh"
            # shellcheck disable=SC1090
            source "$bench_file"
        )
        rc=$?
        set -e
        if ((rc != 0)); then
            echo "=== $(basename "$bench_file" .bench.sh) FAILED (exit $rc)"
            failed+=("$(basename "$bench_file")")
        fi
    done
    echo
    if ((${#failed[@]} > 0)); then
        echo "# failed: ${failed[*]}"
        return 1
    fi
    echo "# all benches finished"
}

# tee -i: a Ctrl-C must not kill tee before the benches have cleaned up and
# said so. Not `run_all | tee || rc=$?`: that would switch off `set -e` for
# everything run_all runs.
set +e
run_all 2>&1 | tee -i "$RESULT"
rc=${PIPESTATUS[0]}
set -e
echo "results: $RESULT"
exit "$rc"
