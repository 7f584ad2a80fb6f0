#!/usr/bin/env bash
# Where a kill → /tasks/exit goes: runs `berth-bench task-exit --via 'kill(2)'` against
# a private berthd while the kernel's tracepoints are written to ftrace's ring buffer,
# then splits each kill into its hops (bench/exit_trace.py) and tells which slow ones
# had another program holding a CPU meanwhile.
#
#   bench/exit-trace.sh [COUNT] [SETTLE_MS]     (defaults: 300 kills, 20 ms after start)
#
# Not part of bench/run.sh: it changes the kernel's tracing settings while it runs
# (restored at exit) and its figures carry the tracing's own cost (~10%). Needs root
# and /sys/kernel/tracing. BIN as for bench/run.sh; EXIT_TRACE_KEEP=FILE keeps the raw
# trace.
set -euo pipefail

export PATH="/opt/swift/usr/bin:$PATH"
BENCH_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$BENCH_HOME/.."
BIN="${BIN:-$(swift build -c release --show-bin-path)}"
export BIN
COUNT="${1:-300}"
SETTLE="${2:-20}"
T=/sys/kernel/tracing
[[ -w "$T/trace" ]] || { echo "exit-trace: $T is not writable (root, and tracefs mounted?)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "exit-trace: needs python3" >&2; exit 1; }

# shellcheck source=bench/lib.sh
source "$BENCH_HOME/lib.sh"
require_bin berth-bench

EVENTS=(sched:sched_wakeup sched:sched_switch sched:sched_process_exit
    syscalls:sys_enter_kill syscalls:sys_exit_wait4 syscalls:sys_exit_read syscalls:sys_enter_write)
# What to put back: the buffer's size reads "7 (expanded: 1408)" before its first use.
saved_buffer="$(sed -E 's/.*expanded: ([0-9]+).*/\1/; s/^([0-9]+).*/\1/' "$T/buffer_size_kb")"
saved_on="$(cat "$T/tracing_on")"
saved_events="$BENCH_DIR/set_event"
cp "$T/set_event" "$saved_events"
_trace_restore() {
    echo 0 >"$T/tracing_on" || true
    echo >"$T/set_event" || true
    while read -r e; do echo "$e" >>"$T/set_event"; done <"$saved_events" || true
    echo >"$T/trace" || true
    [[ "$saved_buffer" =~ ^[0-9]+$ ]] && { echo "$saved_buffer" >"$T/buffer_size_kb" || echo "exit-trace: could not restore buffer_size_kb $saved_buffer" >&2; }
    echo "$saved_on" >"$T/tracing_on" || true
}
trap 'rc=$?; _trace_restore; (exit $rc); _bench_cleanup' EXIT

ROOTFS="$BENCH_DIR/rootfs"
mkdir -p "$ROOTFS"/{bin,proc,dev,sys,tmp,etc,run}
cp /bin/busybox "$ROOTFS/bin/busybox"
for a in sh sleep; do ln -sf busybox "$ROOTFS/bin/$a"; done

start_berthd
io_thread=""
for task in /proc/"$BERTH_PID"/task/*; do
    [[ "$(cat "$task/comm")" == NIO-SGLTN-* ]] && io_thread="${task##*/}"
done
[[ -n "$io_thread" ]] || { echo "exit-trace: berthd's I/O thread not found" >&2; exit 1; }

echo 0 >"$T/tracing_on"
echo >"$T/trace"
echo 131072 >"$T/buffer_size_kb"
echo >"$T/set_event"
for e in "${EVENTS[@]}"; do echo "$e" >>"$T/set_event"; done
echo 1 >"$T/tracing_on"
"$BIN/berth-bench" task-exit --address "$BERTH_SOCK" --rootfs "$ROOTFS" --count "$COUNT" \
    --settle-ms "$SETTLE" --via 'kill(2)'
echo 0 >"$T/tracing_on"
trace="$BENCH_DIR/trace.txt"
cat "$T/trace" >"$trace"
[[ -n "${EXIT_TRACE_KEEP:-}" ]] && cp "$trace" "$EXIT_TRACE_KEEP"
# The bench's two warmup kills are not its figures; not here either.
python3 "$BENCH_HOME/exit_trace.py" "$trace" "$io_thread" --skip 2
