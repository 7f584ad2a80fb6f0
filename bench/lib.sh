# shellcheck shell=bash
# Helpers for the Berth benchmarks. bench/run.sh sources this file, then one
# bench/*.bench.sh file, in a fresh subshell per bench file.
#
# Everything a bench starts lives under one private temporary directory
# ($BENCH_DIR): roots, state, sockets, configs and logs. Nothing here ever uses
# the system paths (/var/lib/berth, /run/berth, /var/lib/containerd,
# /run/containerd), so a bench can run next to a production daemon.
# An EXIT trap stops whatever was started (by PID) and removes $BENCH_DIR.
#
# Provided:
#   start_berthd / stop_berthd           sets BERTH_PID BERTH_SOCK BERTH_ROOT BERTH_STATE BERTH_LOG
#   start_containerd / stop_containerd   sets CONTAINERD_PID CONTAINERD_SOCK CONTAINERD_TTRPC_SOCK
#                                             CONTAINERD_ROOT CONTAINERD_STATE CONTAINERD_CONFIG CONTAINERD_LOG
#   ratio A B                            prints A/B with two decimals ("n/a" if B is 0 or empty)
#   bench_section TITLE                  prints a section header
#   require_bin NAME                     fails unless $BIN/NAME is executable
#   wait_until_idle [MAX_SECONDS]        waits for the host's CPUs to be >= 90% idle
#
# Environment:
#   BIN                     directory with the built Berth executables (required)
#   BENCH_TMPDIR            where $BENCH_DIR is created (default: $TMPDIR or /tmp)
#   BENCH_READY_TIMEOUT     seconds to wait for a daemon to answer (default 20)
#   BENCH_STOP_TIMEOUT      seconds to wait for a daemon to exit on SIGTERM (default 15)
#   BENCH_BERTHD_LOG_LEVEL  berthd --log-level (default warning)
#   BENCH_BERTHD_CONFIG     TOML appended to berthd's (otherwise empty) config file
#   BENCH_CONTAINERD_LOG_LEVEL  containerd [debug] level (default warn)

: "${BIN:?BIN must name the directory with the built Berth executables}"
: "${BENCH_READY_TIMEOUT:=20}"
: "${BENCH_STOP_TIMEOUT:=15}"
: "${BENCH_BERTHD_LOG_LEVEL:=warning}"
: "${BENCH_CONTAINERD_LOG_LEVEL:=warn}"

BENCH_DIR="$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/berth-bench.XXXXXX")"
# Unix socket paths are limited to 108 bytes; keep the base short.
if ((${#BENCH_DIR} > 60)); then
    echo "bench: $BENCH_DIR is too long a path for the sockets under it; set BENCH_TMPDIR" >&2
    rmdir "$BENCH_DIR"
    exit 1
fi

BERTH_PID=""
CONTAINERD_PID=""

bench_section() {
    echo
    echo "--- $*"
}

require_bin() {
    if [[ ! -x "$BIN/$1" ]]; then
        echo "bench: $BIN/$1 not found; build it first (make release)" >&2
        return 1
    fi
}

# ratio A B: A/B to two decimals, for "berth / containerd" figures.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (b == "" || a == "" || b + 0 == 0) { print "n/a"; exit }
        printf "%.2f\n", (a + 0) / (b + 0)
    }'
}

# _alive PID: the process exists and is not a zombie waiting to be reaped.
# wait_until_idle [MAX_SECONDS]: waits until the host's CPUs are at least 90% idle
# over half a second (at most MAX_SECONDS, default 30), and says how long it waited.
# Tearing down many containers leaves the kernel busy for seconds after the last one
# is reaped (network namespaces are destroyed asynchronously, by kernel workers); a
# latency measured during that measures the teardown.
wait_until_idle() {
    local max="${1:-30}" start now idle1 total1 idle2 total2
    start="$(date +%s.%N)"
    while true; do
        read -r idle1 total1 < <(awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print $5 + $6, t }' /proc/stat)
        sleep 0.5
        read -r idle2 total2 < <(awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print $5 + $6, t }' /proc/stat)
        now="$(date +%s.%N)"
        if awk -v i=$((idle2 - idle1)) -v t=$((total2 - total1)) 'BEGIN { exit !(t > 0 && i / t >= 0.9) }'; then
            break
        fi
        if awk -v s="$start" -v n="$now" -v m="$max" 'BEGIN { exit !(n - s >= m) }'; then
            echo "note: the host did not become idle within ${max}s; measuring anyway"
            return 0
        fi
    done
    awk -v s="$start" -v n="$now" 'BEGIN { printf "note: waited %.1f s for the host to be idle (>= 90%% over 0.5 s)\n", n - s }'
}

_alive() {
    kill -0 "$1" 2>/dev/null || return 1
    [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]]
}

# _wait_ready NAME PID LOG COMMAND...: poll COMMAND until it succeeds, the
# process dies, or BENCH_READY_TIMEOUT passes.
_wait_ready() {
    local name="$1" pid="$2" log="$3"
    shift 3
    local deadline=$((SECONDS + BENCH_READY_TIMEOUT))
    until timeout 3 "$@" >/dev/null 2>&1; do
        if ! _alive "$pid"; then
            echo "bench: $name (pid $pid) exited during startup; its log:" >&2
            tail -n 30 "$log" >&2
            return 1
        fi
        if ((SECONDS >= deadline)); then
            echo "bench: $name (pid $pid) did not answer within ${BENCH_READY_TIMEOUT}s; its log:" >&2
            tail -n 30 "$log" >&2
            return 1
        fi
        sleep 0.1
    done
}

# _stop_pid NAME PID EXPECTED_COMM: SIGTERM, wait, SIGKILL after
# BENCH_STOP_TIMEOUT, reap. Only signals PID if it still runs EXPECTED_COMM,
# so a recycled PID is never hit.
_stop_pid() {
    local name="$1" pid="$2" comm="$3"
    [[ -n "$pid" ]] || return 0
    if _alive "$pid" && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$comm" ]]; then
        kill -TERM "$pid" 2>/dev/null || true
        local waited=0
        while _alive "$pid"; do
            if ((waited >= BENCH_STOP_TIMEOUT * 10)); then
                echo "bench: $name (pid $pid) ignored SIGTERM for ${BENCH_STOP_TIMEOUT}s; sending SIGKILL" >&2
                kill -KILL "$pid" 2>/dev/null || true
                break
            fi
            sleep 0.1
            waited=$((waited + 1))
        done
    fi
    wait "$pid" 2>/dev/null || true
}

# _umount_under DIR: unmount everything mounted at or below DIR, deepest first.
_umount_under() {
    local dir="${1%/}" mnt
    [[ -n "$dir" && "$dir" != / ]] || return 0
    # Field 2 of /proc/self/mounts is the mount point (octal-escaped; our paths
    # have no spaces). Deepest first, so nested mounts go before their parents.
    { grep -F " $dir" /proc/self/mounts 2>/dev/null || true; } |
        awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' |
        sort -r |
        while read -r mnt; do
            umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null ||
                echo "bench: could not unmount $mnt" >&2
        done
}

# _pids_with_arg STRING: PIDs whose command line has STRING as one argument.
_pids_with_arg() {
    local want="$1" f pid arg
    local -a args
    for f in /proc/[0-9]*/cmdline; do
        pid="${f#/proc/}"
        pid="${pid%/cmdline}"
        # Pure bash: no helper process of ours can show up with STRING in argv.
        mapfile -d '' -t args 2>/dev/null <"$f" || continue
        for arg in "${args[@]}"; do
            if [[ "$arg" == "$want" ]]; then
                echo "$pid"
                break
            fi
        done
    done
}

# --- berthd ------------------------------------------------------------------

start_berthd() {
    require_bin berthd
    require_bin berthctl
    if [[ -n "$BERTH_PID" ]]; then
        echo "bench: berthd already started (pid $BERTH_PID)" >&2
        return 1
    fi
    local dir="$BENCH_DIR/berth"
    BERTH_ROOT="$dir/root"
    BERTH_STATE="$dir/state"
    BERTH_SOCK="$dir/state/berthd.sock"
    BERTH_CONFIG="$dir/config.toml"
    BERTH_LOG="$dir/berthd.log"
    mkdir -p "$BERTH_ROOT" "$BERTH_STATE"
    # An explicit config: never pick up /etc/berth/config.toml. All defaults, plus
    # whatever TOML a bench puts in BENCH_BERTHD_CONFIG.
    echo "# berth bench: defaults, paths given on the command line" >"$BERTH_CONFIG"
    if [[ -n "${BENCH_BERTHD_CONFIG:-}" ]]; then
        printf '%s\n' "$BENCH_BERTHD_CONFIG" >>"$BERTH_CONFIG"
    fi

    setsid "$BIN/berthd" \
        --root "$BERTH_ROOT" \
        --state "$BERTH_STATE" \
        --address "$BERTH_SOCK" \
        --config "$BERTH_CONFIG" \
        --log-level "$BENCH_BERTHD_LOG_LEVEL" \
        </dev/null >"$BERTH_LOG" 2>&1 &
    # No job control in a script: setsid does not fork, so $! is berthd itself.
    BERTH_PID=$!
    _wait_ready berthd "$BERTH_PID" "$BERTH_LOG" \
        env BERTH_ADDRESS="$BERTH_SOCK" "$BIN/berthctl" version
    export BERTH_SOCK
    echo "bench: berthd pid $BERTH_PID on $BERTH_SOCK"
}

stop_berthd() {
    [[ -n "$BERTH_PID" ]] || return 0
    _stop_pid berthd "$BERTH_PID" berthd
    BERTH_PID=""
    _umount_under "$BERTH_STATE"
    _umount_under "$BERTH_ROOT"
    rm -rf "${BENCH_DIR:?}/berth"
}

# --- containerd (the baseline) -----------------------------------------------

start_containerd() {
    local exe
    for exe in containerd ctr; do
        command -v "$exe" >/dev/null || {
            echo "bench: $exe not found (make deps installs containerd)" >&2
            return 1
        }
    done
    if [[ -n "$CONTAINERD_PID" ]]; then
        echo "bench: containerd already started (pid $CONTAINERD_PID)" >&2
        return 1
    fi
    local dir="$BENCH_DIR/containerd"
    CONTAINERD_ROOT="$dir/root"
    CONTAINERD_STATE="$dir/state"
    CONTAINERD_SOCK="$dir/containerd.sock"
    CONTAINERD_TTRPC_SOCK="$dir/containerd-ttrpc.sock"
    CONTAINERD_CONFIG="$dir/config.toml"
    CONTAINERD_LOG="$dir/containerd.log"
    mkdir -p "$CONTAINERD_ROOT" "$CONTAINERD_STATE" "$dir/opt"

    # containerd 1.6 config, version 2. CRI is disabled: Berth has no CRI, and
    # the comparison is between the plain supervisors.
    cat >"$CONTAINERD_CONFIG" <<EOF
version = 2
root = "$CONTAINERD_ROOT"
state = "$CONTAINERD_STATE"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "$CONTAINERD_SOCK"

[ttrpc]
  address = "$CONTAINERD_TTRPC_SOCK"

[debug]
  address = ""
  level = "$BENCH_CONTAINERD_LOG_LEVEL"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"
EOF

    setsid containerd --config "$CONTAINERD_CONFIG" </dev/null >"$CONTAINERD_LOG" 2>&1 &
    CONTAINERD_PID=$!
    _wait_ready containerd "$CONTAINERD_PID" "$CONTAINERD_LOG" \
        ctr --address "$CONTAINERD_SOCK" version
    export CONTAINERD_SOCK
    echo "bench: containerd pid $CONTAINERD_PID on $CONTAINERD_SOCK"
}

stop_containerd() {
    [[ -n "$CONTAINERD_PID" ]] || return 0
    _stop_pid containerd "$CONTAINERD_PID" containerd
    CONTAINERD_PID=""
    # Shims outlive containerd by design; ours carry our unique socket path as
    # their -address argument, which identifies exactly them.
    local pid
    for pid in $(_pids_with_arg "$CONTAINERD_SOCK"); do
        _stop_pid containerd-shim "$pid" "$(cat "/proc/$pid/comm" 2>/dev/null)"
    done
    _umount_under "$CONTAINERD_STATE"
    _umount_under "$CONTAINERD_ROOT"
    rm -rf "${BENCH_DIR:?}/containerd"
}

# --- cleanup -----------------------------------------------------------------

_bench_cleanup() {
    local rc=$?
    set +e
    stop_berthd
    stop_containerd
    if [[ -n "${BENCH_DIR:-}" && -d "$BENCH_DIR" ]]; then
        _umount_under "$BENCH_DIR"
        rm -rf "$BENCH_DIR"
    fi
    exit "$rc"
}
trap _bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
