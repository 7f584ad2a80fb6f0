# shellcheck shell=bash
# OCI runtime start-up. Sourced by bench/run.sh after bench/lib.sh.
#
# (a) `berth-runtime run` of a bundle whose process is /bin/true, beside `runc run`
#     and `crun run` of the same bundle (hyperfine, no intermediate shell): create the
#     namespaces, cgroup and root, start, wait, delete. Medians and the ratios
#     berth/runc and berth/crun.
#     crun 1.8 refuses this host's hybrid cgroups, so it runs inside
#     `unshare -m sh -c 'umount /sys/fs/cgroup/unified; exec crun …'`; that wrapper's
#     own cost is measured alone (`… exec true`) and printed, so it can be subtracted.
# (b) peak RSS of `create` (/usr/bin/time %M: the runtime process itself) and of the
#     container init while the container is created (VmHWM of /proc/<pid>/status),
#     for berth-runtime and runc.
#
# The bundle: a busybox rootfs (busybox-static, /bin/true a link to it) and the
# config.json of `berth-runtime spec` with terminal false, args ["/bin/true"] and
# ociVersion 1.0.2:
# read-only root, new pid/net/ipc/uts/mount/cgroup namespaces, the default mounts,
# masked and read-only paths. The same bundle for all three runtimes.

: "${RUNTIME_RUNS:=50}"
: "${RUNTIME_WARMUP:=5}"

require_bin berth-runtime
command -v hyperfine >/dev/null || { echo "bench: hyperfine not found (make deps)" >&2; exit 1; }
command -v runc >/dev/null || { echo "bench: runc not found (make deps)" >&2; exit 1; }
[[ -x /bin/busybox ]] || { echo "bench: /bin/busybox not found (apt-get install busybox-static)" >&2; exit 1; }
RUNC="$(command -v runc)"
CRUN="$(command -v crun || true)"

bundle="$BENCH_DIR/bundle"
mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/proc" "$bundle/rootfs/dev" "$bundle/rootfs/sys" "$bundle/rootfs/tmp" "$bundle/rootfs/etc"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
ln -s busybox "$bundle/rootfs/bin/true"
ln -s busybox "$bundle/rootfs/bin/sh"
echo 'root:x:0:0:root:/root:/bin/sh' >"$bundle/rootfs/etc/passwd"
echo 'root:x:0:' >"$bundle/rootfs/etc/group"
"$BIN/berth-runtime" spec --bundle "$bundle"
# terminal false, args /bin/true (a textual edit: no jq or python needed), and
# ociVersion 1.0.2: crun 1.8 refuses the 1.2.0 that `berth-runtime spec` writes
# ("unknown version specified"); nothing in this bundle needs a newer spec.
sed -i -e 's/"terminal" : true/"terminal" : false/' \
    -e 's/"ociVersion" : "[^"]*"/"ociVersion" : "1.0.2"/' \
    -e 's|"args" : \[\s*$|"args" : [ "/bin/true"|' "$bundle/config.json"
awk 'BEGIN { skip = 0 }
     /"args" : \[ "\/bin\/true"/ { print "    \"args\" : [ \"/bin/true\" ],"; skip = 1; next }
     skip && /\]/ { skip = 0; next }
     skip { next }
     { print }' "$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"
grep -q '"terminal" : false' "$bundle/config.json" && grep -q '"/bin/true"' "$bundle/config.json" &&
    grep -q '"ociVersion" : "1.0.2"' "$bundle/config.json" || {
    echo "bench: could not edit $bundle/config.json" >&2
    exit 1
}

broot="$BENCH_DIR/berth-root"
rroot="$BENCH_DIR/runc-root"
croot="$BENCH_DIR/crun-root"
mkdir -p "$broot" "$rroot" "$croot"

# Each runtime must run the bundle once, cleanly, before it is timed.
for cmd in "$BIN/berth-runtime --root $broot run --bundle $bundle bench-check" \
    "$RUNC --root $rroot run --bundle $bundle bench-check"; do
    if ! $cmd </dev/null; then
        echo "bench: '$cmd' failed" >&2
        exit 1
    fi
done
crun_wrapper="umount /sys/fs/cgroup/unified 2>/dev/null; exec"
have_crun=0
if [[ -n "$CRUN" ]] && unshare -m sh -c "$crun_wrapper $CRUN --root $croot run --bundle $bundle bench-check" </dev/null; then
    have_crun=1
else
    echo "bench: crun missing or failing here; measuring berth-runtime and runc only" >&2
fi

bench_section "(a) run of a /bin/true bundle: berth-runtime vs runc vs crun (runs=$RUNTIME_RUNS, warmup=$RUNTIME_WARMUP)"
if ((have_crun)); then
    echo "note: crun runs as: unshare -m sh -c 'umount /sys/fs/cgroup/unified; exec crun …' (crun 1.8 refuses hybrid cgroups);"
    echo "      'unshare-wrapper' below is that wrapper alone, with 'exec true' in place of crun"
fi
json="$BENCH_DIR/runtime-run.json"
commands=(
    --command-name berth-runtime "$BIN/berth-runtime --root $broot run --bundle $bundle bench-b"
    --command-name runc "$RUNC --root $rroot run --bundle $bundle bench-r"
)
if ((have_crun)); then
    commands+=(
        --command-name crun "unshare -m sh -c '$crun_wrapper $CRUN --root $croot run --bundle $bundle bench-c'"
        --command-name unshare-wrapper "unshare -m sh -c '$crun_wrapper true'"
    )
fi
hyperfine -N --style basic --warmup "$RUNTIME_WARMUP" --runs "$RUNTIME_RUNS" --export-json "$json" "${commands[@]}"

mapfile -t medians < <(awk -F: '/"median"[[:space:]]*:/ { gsub(/[[:space:],]/, "", $2); print $2 }' "$json")
ms() { awk -v s="$1" 'BEGIN { if (s == "") print ""; else printf "%.3f", s * 1000 }'; }
berth_ms="$(ms "${medians[0]:-}")"
runc_ms="$(ms "${medians[1]:-}")"
crun_ms="$(ms "${medians[2]:-}")"
wrap_ms="$(ms "${medians[3]:-}")"
echo
echo "runtime.run berth_median_ms=$berth_ms runc_median_ms=$runc_ms crun_median_ms=${crun_ms:-n/a} crun_wrapper_ms=${wrap_ms:-n/a} ratio_berth_runc=$(ratio "$berth_ms" "$runc_ms") ratio_berth_crun=$(ratio "$berth_ms" "$crun_ms")"

bench_section "(b) peak RSS: the create process (/usr/bin/time %M) and the created init (VmHWM)"
# create_rss NAME RUNTIME ROOT: prints "create_kb init_hwm_kb" for one create.
create_rss() {
    local rt="$1" root="$2" id="bench-rss" out pid
    out="$BENCH_DIR/time.out"
    /usr/bin/time -o "$out" -f %M $rt --root "$root" create --bundle "$bundle" --pid-file "$BENCH_DIR/rss.pid" "$id" </dev/null >/dev/null
    pid="$(cat "$BENCH_DIR/rss.pid")"
    local hwm
    hwm="$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo n/a)"
    $rt --root "$root" delete --force "$id" >/dev/null 2>&1 || true
    echo "$(tail -n 1 "$out") ${hwm:-n/a}"
}
read -r b_create b_init < <(create_rss "$BIN/berth-runtime" "$broot")
read -r r_create r_init < <(create_rss "$RUNC" "$rroot")
echo "runtime.create.rss berth_create_kb=$b_create berth_init_hwm_kb=$b_init runc_create_kb=$r_create runc_init_hwm_kb=$r_init ratio_berth_runc=$(ratio "$b_create" "$r_create")"
