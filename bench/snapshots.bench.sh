# shellcheck shell=bash
# Snapshots: the cost of giving a container its root file system and taking it away.
# Sourced by bench/run.sh after bench/lib.sh.
#
# (a) API: prepare + mount + umount + remove of an active snapshot on a 10-layer
#     chain, one cycle at a time, through the client library and MountExecutor
#     (berth-bench snapshots), for overlayfs and native; ops/s and the steps' p50.
# (b) CLI, berth beside containerd: the same cycle as an administrator runs it,
#     `snapshots prepare` + `eval "$(snapshots mounts …)"` + umount + `snapshots rm`,
#     berthctl against ctr, both on a 10-layer overlayfs chain (hyperfine).
# (c) 200 layers: mount time through MountExecutor (lowerdir+), and whether the
#     mount line each CLI prints for a 200-layer snapshot works in a shell.

: "${SNAP_COUNT:=300}"
: "${SNAP_WARMUP:=20}"
: "${SNAP_CLI_RUNS:=40}"
: "${SNAP_CLI_WARMUP:=3}"

require_bin berth-bench
command -v hyperfine >/dev/null || { echo "bench: hyperfine not found (make deps)" >&2; exit 1; }

start_berthd
start_containerd

BCTL="$(printf '%q' "$BIN/berthctl")"
CTR="ctr --address $(printf '%q' "$CONTAINERD_SOCK")"
export BERTH_ADDRESS="$BERTH_SOCK"
target="$BENCH_DIR/target"
mkdir -p "$target"

# chain TOOL PREFIX N: N committed (empty) layers PREFIX-l0..l(N-1). Nothing is
# mounted while building: ctr's printed mount line stops working after some tens of layers.
chain() {
    local tool="$1" prefix="$2" n="$3" i parent=""
    for ((i = 0; i < n; i++)); do
        eval "$tool snapshots prepare $prefix-k$i $parent" >/dev/null
        eval "$tool snapshots commit $prefix-l$i $prefix-k$i"
        parent="$prefix-l$i"
    done
}

bench_section "(a) API: prepare+mount+umount+remove on a 10-layer chain (count=$SNAP_COUNT, warmup=$SNAP_WARMUP)"
for snapshotter in overlayfs native; do
    "$BIN/berth-bench" snapshots --address "$BERTH_SOCK" --target "$target" --snapshotter "$snapshotter" \
        --layers 10 --count "$SNAP_COUNT" --warmup "$SNAP_WARMUP"
done

bench_section "(b) CLI: prepare + eval mounts + umount + rm on a 10-layer overlayfs chain, berthctl vs ctr (runs=$SNAP_CLI_RUNS)"
chain "$BCTL" c10 10
chain "$CTR" c10 10
cycle_json="$BENCH_DIR/snapshots-cycle.json"
hyperfine --style basic --warmup "$SNAP_CLI_WARMUP" --runs "$SNAP_CLI_RUNS" --export-json "$cycle_json" \
    --command-name berthctl "$BCTL snapshots prepare cyc c10-l9 && eval \"\$($BCTL snapshots mounts $target cyc)\" && umount $target && $BCTL snapshots rm cyc" \
    --command-name ctr "$CTR snapshots prepare cyc c10-l9 && eval \"\$($CTR snapshots mounts $target cyc)\" && umount $target && $CTR snapshots rm cyc"
mapfile -t means < <(awk -F: '/"mean"[[:space:]]*:/ { gsub(/[[:space:],]/, "", $2); print $2 }' "$cycle_json")
berth_ops="$(awk -v s="${means[0]}" 'BEGIN { printf "%.1f", 1 / s }')"
ctr_ops="$(awk -v s="${means[1]}" 'BEGIN { printf "%.1f", 1 / s }')"
echo
echo "snapshots.cli_cycle layers=10 berthctl_ops_per_s=$berth_ops ctr_ops_per_s=$ctr_ops ratio_berth_containerd=$(ratio "$ctr_ops" "$berth_ops") (time ratio; below 1.00: berth faster)"

bench_section "(c) 200 layers"
"$BIN/berth-bench" snapshots --address "$BERTH_SOCK" --target "$target" --layers 200 --count 100 --warmup 10
chain "$BCTL" c200 200
chain "$CTR" c200 200
eval "$BCTL snapshots prepare top200 c200-l199"
eval "$CTR snapshots prepare top200 c200-l199" >/dev/null
berth_line="$(eval "$BCTL snapshots mounts $target top200")"
ctr_line="$(eval "$CTR snapshots mounts $target top200")"
echo "berthctl mount line: ${#berth_line} bytes; ctr mount line: ${#ctr_line} bytes"
hyperfine --style basic --warmup 2 --runs 20 \
    --command-name "berthctl line, 200 layers" "$berth_line && umount $target"
ctr200="works"
set +e
(eval "$ctr_line") 2>"$BENCH_DIR/ctr-mount.err"
ctr_rc=$?
set -e
if ((ctr_rc == 0)); then
    umount "$target"
else
    ctr200="fails:$(head -n 1 "$BENCH_DIR/ctr-mount.err" | tr ' ' '_')"
fi
echo
echo "snapshots.200_layers berthctl_printed_mount=works ctr_printed_mount=$ctr200"

stop_containerd
stop_berthd
