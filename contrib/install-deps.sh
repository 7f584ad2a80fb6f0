#!/usr/bin/env bash
# Installs the Debian packages Berth needs to build, test and benchmark.
#
# Idempotent: it asks dpkg which of the packages are missing and installs only
# those; when none is missing it does not touch apt at all (no `apt-get update`).
# Needs root only when something is missing.
#
# The Swift toolchain is not a Debian package; it is expected in /opt/swift
# (or anywhere on PATH). This script checks for it and says so if it is absent.
set -euo pipefail

packages=(
    pkg-config          # finds the system libraries for the C targets
    libstdc++-12-dev    # libstdc++.a: the static executables link the C++ runtime in (contrib/link)
    libseccomp-dev      # seccomp profiles (berth-runtime; libseccomp.a, as it is static)
    libsystemd-dev      # sd_notify, socket activation, journald logs, systemd cgroup driver
    libsqlite3-dev      # metadata.db
    libarchive-dev      # image layer tars
    libtomlplusplus-dev # config.toml
    libssl-dev          # sha256 digests, TLS for registry pulls
    busybox-static      # a static rootfs for tests and the demo
    runc                # alternative runtime; reference behaviour for berth-runtime
    containerd          # the benchmark baseline (bench/)
    hyperfine           # command timing in bench/
    crun                # the second pluggable runtime, measured in bench/
    gcc                 # tests compile small C probes (seccomp, console socket)
    libc6-dev           # headers for those probes; libc.a for the static executables
    python3             # raw-socket clients in tests
    skopeo              # reads back exported images in tests (skopeo inspect oci-archive:)
    umoci               # a second OCI image tool for the image tests
    zstd                # zstd-compressed layers in the image tests
    debootstrap         # the Debian image of the images benchmark (bench/)
)

missing=()
for pkg in "${packages[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]} > 0)); then
    if [[ "$(id -u)" -ne 0 ]]; then
        echo "install-deps: these packages are missing: ${missing[*]}" >&2
        echo "install-deps: run as root to install them, e.g.:" >&2
        echo "    sudo $0" >&2
        echo "  or: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Wait for a concurrent apt/dpkg (e.g. unattended-upgrades) instead of failing.
    apt_opts=(-o DPkg::Lock::Timeout=300 -q -y)
    apt-get "${apt_opts[@]}" update
    apt-get "${apt_opts[@]}" install --no-install-recommends "${missing[@]}"

    # Verify: a package that apt could not provide must not pass silently.
    still_missing=()
    for pkg in "${missing[@]}"; do
        status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
        [[ "$status" == "install ok installed" ]] || still_missing+=("$pkg")
    done
    if ((${#still_missing[@]} > 0)); then
        echo "install-deps: still missing after apt-get install: ${still_missing[*]}" >&2
        exit 1
    fi
fi

if command -v swift >/dev/null 2>&1; then
    swift_path="$(command -v swift)"
elif [[ -x /opt/swift/usr/bin/swift ]]; then
    swift_path=/opt/swift/usr/bin/swift
else
    echo "install-deps: the Swift toolchain was not found." >&2
    echo "install-deps: expected /opt/swift/usr/bin/swift or 'swift' on PATH." >&2
    echo "install-deps: install a Swift 6 toolchain for Linux into /opt/swift (it is not a Debian package)." >&2
    exit 1
fi

# berth-shim is Embedded Swift: the toolchain must carry the embedded standard library
# for this target (Swift 6.3's Linux toolchains do).
toolchain_lib="$(dirname "$(readlink -f "$swift_path")")/../lib/swift/embedded/$(uname -m)-unknown-linux-gnu"
if [[ ! -d "$toolchain_lib" ]]; then
    echo "install-deps: this Swift toolchain has no Embedded Swift standard library for $(uname -m) Linux" >&2
    echo "install-deps: (looked for $toolchain_lib); berth-shim needs it: use Swift 6.3 or later." >&2
    exit 1
fi

echo "install-deps: all packages present; swift at $swift_path"
