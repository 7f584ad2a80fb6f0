# shellcheck shell=bash
# RPC and CLI latency. Sourced by bench/run.sh after bench/lib.sh.
#
# (a) system.version round trips over one connection (berth-bench rpc): the
#     cost of framing + JSON-RPC dispatch in berthd, no process start-up.
# (b) `berthctl version` vs `ctr version`, whole command wall time (hyperfine):
#     process start, connect, one call, print, exit; the ratio berth/containerd.

: "${RPC_COUNT:=20000}"
: "${RPC_WARMUP:=1000}"
: "${CLI_RUNS:=100}"
: "${CLI_WARMUP:=5}"

require_bin berth-bench
command -v hyperfine >/dev/null || { echo "bench: hyperfine not found (make deps)" >&2; exit 1; }

start_berthd
start_containerd

bench_section "(a) system.version round trip over one connection (count=$RPC_COUNT, warmup=$RPC_WARMUP)"
"$BIN/berth-bench" rpc --address "$BERTH_SOCK" --count "$RPC_COUNT" --warmup "$RPC_WARMUP"

bench_section "(b) CLI wall time: berthctl version vs ctr version (runs=$CLI_RUNS, warmup=$CLI_WARMUP)"
cli_json="$BENCH_DIR/cli-version.json"
# -N: no intermediate shell, so nothing but the command itself is timed.
# berthctl finds its daemon through BERTH_ADDRESS, ctr through --address.
BERTH_ADDRESS="$BERTH_SOCK" hyperfine -N --style basic \
    --warmup "$CLI_WARMUP" --runs "$CLI_RUNS" \
    --export-json "$cli_json" \
    --command-name berthctl "$(printf '%q' "$BIN/berthctl") version" \
    --command-name ctr "ctr --address $(printf '%q' "$CONTAINERD_SOCK") version"

# Medians in seconds, in command order (berthctl, then ctr).
mapfile -t medians < <(awk -F: '/"median"[[:space:]]*:/ { gsub(/[[:space:],]/, "", $2); print $2 }' "$cli_json")
if ((${#medians[@]} != 2)); then
    echo "bench: could not read two medians from $cli_json" >&2
    exit 1
fi
berth_ms="$(awk -v s="${medians[0]}" 'BEGIN { printf "%.3f", s * 1000 }')"
ctr_ms="$(awk -v s="${medians[1]}" 'BEGIN { printf "%.3f", s * 1000 }')"
echo
echo "cli.version berthctl_median_ms=$berth_ms ctr_median_ms=$ctr_ms ratio_berth_containerd=$(ratio "$berth_ms" "$ctr_ms")"

stop_containerd
stop_berthd
