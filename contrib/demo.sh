#!/usr/bin/env bash
# A short tour of Berth: berthd on its default paths, driven by berthctl.
#
#   contrib/demo.sh [BIN_DIR]        (or: make demo)
#
# BIN_DIR holds the built berthd and berthctl; it defaults to $BIN, then to
# `swift build --show-bin-path`. If a berthd already serves the default socket
# (/run/berth/berthd.sock) the demo uses it and leaves it running; otherwise it
# starts one in the background, and stops that one (by its PID) when it ends.
set -euo pipefail

export PATH="/opt/swift/usr/bin:$PATH"

readonly SOCK=/run/berth/berthd.sock
readonly READY_TIMEOUT=10   # seconds to wait for a berthd we started
readonly STOP_TIMEOUT=10    # seconds to wait for it to stop on SIGTERM

BIN="${1:-${BIN:-}}"
if [[ -z "$BIN" ]]; then
    cd "$(dirname "${BASH_SOURCE[0]}")/.."
    BIN="$(swift build --show-bin-path)"
fi
for exe in berthd berthctl; do
    if [[ ! -x "$BIN/$exe" ]]; then
        echo "demo: $BIN/$exe not found; build first (make build)" >&2
        exit 1
    fi
done

# The demo shows the commands exactly as typed, on the defaults: do not let the
# caller's environment point berthctl elsewhere.
unset BERTH_ADDRESS BERTH_NAMESPACE

berthctl() { "$BIN/berthctl" "$@"; }

# Print a header, then run the command.
show() {
    echo
    echo "==> berthctl $*"
    berthctl "$@"
}

# True when a berthd answers on the default socket.
berthd_answers() {
    timeout 3 "$BIN/berthctl" version >/dev/null 2>&1
}

berthd_pid=""
berthd_log=""

cleanup() {
    local rc=$?
    set +e
    if [[ -n "$berthd_pid" ]]; then
        echo
        echo "==> stopping berthd (pid $berthd_pid)"
        kill -TERM "$berthd_pid" 2>/dev/null
        local waited=0
        while kill -0 "$berthd_pid" 2>/dev/null && [[ "$(awk '{print $3}' "/proc/$berthd_pid/stat" 2>/dev/null)" != Z ]]; do
            if ((waited >= STOP_TIMEOUT * 10)); then
                echo "demo: berthd did not stop within ${STOP_TIMEOUT}s; sending SIGKILL" >&2
                kill -KILL "$berthd_pid" 2>/dev/null
                break
            fi
            sleep 0.1
            waited=$((waited + 1))
        done
        wait "$berthd_pid" 2>/dev/null
        local status=$?
        echo "berthd exited with status $status"
        if [[ -S "$SOCK" ]]; then
            echo "demo: warning: $SOCK is still there after berthd stopped" >&2
        fi
        echo
        echo "==> last lines of the berthd log ($berthd_log)"
        tail -n 20 "$berthd_log"
        if ((rc == 0 && status == 0)); then
            rm -f "$berthd_log"
        else
            echo "demo: the full log is kept at $berthd_log" >&2
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if berthd_answers; then
    echo "==> using the berthd already serving $SOCK (it is left running)"
else
    if [[ "$(id -u)" -ne 0 ]]; then
        echo "demo: berthd on its default paths (/var/lib/berth, /run/berth) needs root" >&2
        exit 1
    fi
    berthd_log="$(mktemp /tmp/berthd-demo.XXXXXX.log)"
    echo "==> starting berthd --log-level info (log: $berthd_log)"
    # setsid: its own session, so a Ctrl-C on this terminal reaches the demo
    # (which then stops berthd gracefully) rather than berthd directly.
    # A script has no job control, so setsid does not fork and $! is berthd.
    setsid "$BIN/berthd" --log-level info </dev/null >"$berthd_log" 2>&1 &
    berthd_pid=$!

    deadline=$((SECONDS + READY_TIMEOUT))
    until berthd_answers; do
        if ! kill -0 "$berthd_pid" 2>/dev/null; then
            echo "demo: berthd exited during startup" >&2
            exit 1      # the EXIT trap shows its log
        fi
        if ((SECONDS >= deadline)); then
            echo "demo: berthd did not answer on $SOCK within ${READY_TIMEOUT}s" >&2
            exit 1
        fi
        sleep 0.1
    done
fi

show version
show info

# A leftover "demo" namespace from an interrupted run would make `create` fail.
# Only an empty namespace can be removed, so this never deletes anyone's work.
berthctl namespaces rm demo >/dev/null 2>&1 || true

show namespaces create demo env=demo
show namespaces ls
show namespaces label demo owner=berth
show namespaces ls --format json

# An image: a root file system made from the host's busybox-static, packed as a tar
# and imported as a one-layer image (unpacked into the overlayfs snapshotter).
work="$(mktemp -d /tmp/berth-demo.XXXXXX)"
trap 'rm -rf "$work"; cleanup' EXIT
rootfs="$work/rootfs"
mkdir -p "$rootfs"/{bin,proc,dev,sys,tmp,etc,run}
cp /bin/busybox "$rootfs/bin/busybox"
for applet in sh echo id hostname cat ls sleep uname; do ln -s busybox "$rootfs/bin/$applet"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$rootfs/etc/passwd"
echo 'root:x:0:' > "$rootfs/etc/group"
tar -C "$rootfs" -czf "$work/busybox-rootfs.tar.gz" .

show -n demo images import --rootfs-tar --name demo/busybox:latest "$work/busybox-rootfs.tar.gz"
show -n demo images ls

# A container from the image: its writable snapshot on the image's layer, removed
# with it (--rm). It exits with status 3 on purpose.
show -n demo run --rm demo/busybox hello sh -c 'echo "hello from a Berth container: $(hostname), $(id)"; exit 3' \
    || echo "(exit status $?: the container's own)"

echo
echo "==> berthctl -n demo events --since 0   (the last events, for 1 s)"
timeout 1 "$BIN/berthctl" -n demo events --since 0 'namespace==demo' || true

# Removing the image collects its content and unpacked layer (--sync waits for the
# collection); the namespace is then empty and can go.
show -n demo images rm --sync demo/busybox
show namespaces rm demo

echo
echo "==> demo finished"
