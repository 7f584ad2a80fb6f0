# shellcheck shell=bash
# Images: importing and unpacking a real Debian image, beside containerd and tar.
# Sourced by bench/run.sh after bench/lib.sh.
#
# The image is a Debian bookworm root file system made by
# `debootstrap --variant=minbase` (about 128 MB, 49 MB gzipped), built once and
# cached in $BENCH_IMAGE_CACHE (default /var/cache/berth-bench; it needs
# deb.debian.org, or set DEBOOTSTRAP_MIRROR). From it, two OCI image layout tars:
#   debian-1   one gzip layer: the whole root file system
#   debian-5   five gzip layers (the rest, /usr/lib, the rest of /usr, /var, /etc)
# Each run, one after the other on the same machine (the order rotating from run to
# run), into a namespace of its own so nothing is reused:
#   berthctl images import  (store + verify + unpack into overlayfs, one RPC)
#   ctr images import       (containerd 1.6: store + unpack into overlayfs)
#   tar -xzf LAYER -C DIR   (every layer in order into an empty directory), and the
#                           same followed by `sync` (Berth syncs a layer before it
#                           commits it; tar does not)
#   gzip -dc LAYER          (decompression alone)
# Printed: the median of $IMAGE_RUNS runs of each, and the ratios the goal is
# stated in (berth / tar, berth / containerd).

: "${IMAGE_RUNS:=5}"
: "${BENCH_IMAGE_CACHE:=/var/cache/berth-bench}"
: "${DEBOOTSTRAP_MIRROR:=http://deb.debian.org/debian}"

command -v debootstrap >/dev/null || { echo "bench: debootstrap not found (make deps)" >&2; exit 1; }
command -v ctr >/dev/null || { echo "bench: ctr not found (make deps)" >&2; exit 1; }

# The cached root file system, made once.
debian_rootfs() {
    local cache="$BENCH_IMAGE_CACHE" dir="$BENCH_IMAGE_CACHE/debian-minbase"
    if [[ ! -f "$dir/.complete" ]]; then
        mkdir -p "$cache"
        rm -rf "$dir.tmp"
        echo "bench: debootstrap --variant=minbase bookworm (once; cached in $cache)" >&2
        debootstrap --variant=minbase bookworm "$dir.tmp" "$DEBOOTSTRAP_MIRROR" >"$cache/debootstrap.log" 2>&1 ||
            { echo "bench: debootstrap failed; see $cache/debootstrap.log" >&2; return 1; }
        # As Debian's own container images: no package lists or caches (~80 MB).
        rm -rf "$dir.tmp"/var/cache/apt/*.bin "$dir.tmp"/var/cache/apt/archives/*.deb "$dir.tmp"/var/lib/apt/lists/*
        rm -rf "$dir"
        mv "$dir.tmp" "$dir"
        touch "$dir/.complete"
    fi
    echo "$dir"
}

# layout NAME LAYER.tar.gz...: an OCI image layout tar of those layers (bottom
# first), named docker.io/library/NAME:latest, at $BENCH_DIR/NAME.tar.
layout() {
    local name="$1"
    shift
    python3 - "$BENCH_DIR/$name.tar" "$name" "$@" <<'PY'
import gzip, hashlib, io, json, sys, tarfile
out, name, layers = sys.argv[1], sys.argv[2], sys.argv[3:]
blobs, descs, diff_ids = {}, [], []
for path in layers:
    data = open(path, "rb").read()
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    h = hashlib.sha256()
    with gzip.open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    blobs[d] = path
    descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": len(data)})
    diff_ids.append("sha256:" + h.hexdigest())
def doc(obj):
    b = json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()
    d = "sha256:" + hashlib.sha256(b).hexdigest()
    blobs[d] = b
    return d, len(b)
cd, cs = doc({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/bash"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
              "rootfs": {"type": "layers", "diff_ids": diff_ids}})
md, ms = doc({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
              "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs}, "layers": descs})
index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
         "annotations": {"io.containerd.image.name": f"docker.io/library/{name}:latest", "org.opencontainers.image.ref.name": "latest"}}]}
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    def add(arcname, data):
        info = tarfile.TarInfo(arcname)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    add("index.json", json.dumps(index).encode())
    for d, v in blobs.items():
        if isinstance(v, bytes):
            add("blobs/sha256/" + d[7:], v)
        else:
            t.add(v, arcname="blobs/sha256/" + d[7:])
PY
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

rootfs="$(debian_rootfs)"
layers="$BENCH_DIR/layers"
mkdir -p "$layers"
tar -C "$rootfs" --exclude=./.complete -czf "$layers/all.tar.gz" .
tar -C "$rootfs" --exclude=./.complete --exclude=./usr --exclude=./var --exclude=./etc -czf "$layers/l1.tar.gz" .
tar -C "$rootfs" -czf "$layers/l2.tar.gz" ./usr/lib
tar -C "$rootfs" --exclude=./usr/lib -czf "$layers/l3.tar.gz" ./usr
tar -C "$rootfs" -czf "$layers/l4.tar.gz" ./var
tar -C "$rootfs" -czf "$layers/l5.tar.gz" ./etc
layout debian-1 "$layers/all.tar.gz"
layout debian-5 "$layers"/l{1,2,3,4,5}.tar.gz
echo "image: $(du -sm --exclude=.complete "$rootfs" | cut -f1) MB root file system; one layer $(($(stat -c %s "$layers/all.tar.gz") / 1048576)) MB gzipped"

start_berthd
start_containerd
BCTL="$BIN/berthctl"
CTR=(ctr --address "$CONTAINERD_SOCK")

run_set() {
    local name="$1"
    shift
    local -a parts=("$@")
    local i k t0 dir berth=() ctrd=() tarx=() tars=() gz=()
    # One step of a run; the order rotates from run to run, so none always follows the
    # deletions of another (ext4's inode allocator slows down right after many).
    step() {
        case "$1" in
        berth)
            sync
            t0=$(now_ms)
            "$BCTL" -a "$BERTH_SOCK" -n "b-$name-$i" images import "$BENCH_DIR/$name.tar" >/dev/null
            berth+=($(($(now_ms) - t0)))
            ;;
        ctr)
            sync
            t0=$(now_ms)
            "${CTR[@]}" -n "c-$name-$i" images import "$BENCH_DIR/$name.tar" >/dev/null
            ctrd+=($(($(now_ms) - t0)))
            ;;
        tar)
            sync
            dir="$BENCH_DIR/x-$name-$i"
            mkdir "$dir"
            t0=$(now_ms)
            for p in "${parts[@]}"; do tar -xzf "$p" -C "$dir"; done
            tarx+=($(($(now_ms) - t0)))
            sync
            tars+=($(($(now_ms) - t0)))
            ;;
        esac
    }
    local -a order=(berth ctr tar)
    for ((i = 0; i < IMAGE_RUNS; i++)); do
        for ((k = 0; k < 3; k++)); do step "${order[$(((i + k) % 3))]}"; done
        t0=$(now_ms)
        for p in "${parts[@]}"; do gzip -dc "$p" >/dev/null; done
        gz+=($(($(now_ms) - t0)))
    done
    rm -rf "$BENCH_DIR"/x-"$name"-*
    local mb mc mt mts mg
    mb=$(printf '%s\n' "${berth[@]}" | median)
    mc=$(printf '%s\n' "${ctrd[@]}" | median)
    mt=$(printf '%s\n' "${tarx[@]}" | median)
    mts=$(printf '%s\n' "${tars[@]}" | median)
    mg=$(printf '%s\n' "${gz[@]}" | median)
    echo "images.import image=$name runs=$IMAGE_RUNS berth_ms=$mb containerd_ms=$mc tar_xzf_ms=$mt tar_xzf_sync_ms=$mts gunzip_ms=$mg" \
        "ratio_berth_tar=$(ratio "$mb" "$mt") ratio_berth_tar_sync=$(ratio "$mb" "$mts") ratio_berth_containerd=$(ratio "$mb" "$mc")"
    echo "  each run (ms): berth ${berth[*]}; containerd ${ctrd[*]}; tar ${tarx[*]}; tar+sync ${tars[*]}; gunzip ${gz[*]}"
}

bench_section "(a) import + unpack of a one-layer Debian minbase image (goal: berth <= 1.1x tar -xzf)"
run_set debian-1 "$layers/all.tar.gz"
bench_section "(b) the same root file system as five layers"
run_set debian-5 "$layers"/l{1,2,3,4,5}.tar.gz
