// Calls BerthCgroups needs that Swift's Glibc does not show: eventfd, inotify, and
// bpf(2) for the cgroup v2 device controller. Each returns -errno on failure.
#include "CBerthLinux.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

int berth_eventfd_nonblocking(void) {
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    return fd < 0 ? -errno : fd;
}

int berth_inotify_watch_modify(const char *path) {
    int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd < 0) return -errno;
    if (inotify_add_watch(fd, path, IN_MODIFY) < 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fd;
}

// MARK: - cgroup v2 device filter

static long sys_bpf(int cmd, union bpf_attr *attr) {
    return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    struct bpf_insn i;
    memset(&i, 0, sizeof i);
    i.code = code;
    i.dst_reg = dst;
    i.src_reg = src;
    i.off = off;
    i.imm = imm;
    return i;
}

#define LDX_W(dst, src, off) insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define AND_K(dst, imm) insn(BPF_ALU64 | BPF_AND | BPF_K, dst, 0, 0, imm)
#define RSH_K(dst, imm) insn(BPF_ALU64 | BPF_RSH | BPF_K, dst, 0, 0, imm)
#define MOV_X(dst, src) insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV_K(dst, imm) insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JNE_K(dst, imm, off) insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm)
#define JEQ_K(dst, imm, off) insn(BPF_JMP | BPF_JEQ | BPF_K, dst, 0, off, imm)
#define EXIT() insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/// Whether a rule matches every request (the verifier refuses code after it).
static int matches_all(const berth_device_rule *r) {
    return r->type == 'a' && (r->access & 7) == 7 && r->major < 0 && r->minor < 0;
}

/// Emits one rule's block at `out` (if not NULL) and returns its length.
///
/// Registers: r2 = device type, r3 = requested access, r4 = major, r5 = minor.
/// An allow rule matches when every requested access is in the rule; a deny rule
/// matches when any requested access is in the rule (v1 devices.allow/deny semantics).
static int emit_rule(const berth_device_rule *r, struct bpf_insn *out) {
    struct bpf_insn block[16];
    int checks = 0;
    // Conditions first, each jumping past the block's end; the offsets are fixed below.
    int types = r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : r->type == 'c' ? BPF_DEVCG_DEV_CHAR : 0;
    int access = r->access & 7;
    int n = 0;
    int jumps[8];
    if (types) { jumps[checks++] = n; block[n++] = JNE_K(2, types, 0); }
    if (access != 7) {
        block[n++] = MOV_X(1, 3);
        if (r->allow) {
            block[n++] = AND_K(1, (~access) & 7);
            jumps[checks++] = n; block[n++] = JNE_K(1, 0, 0);
        } else {
            block[n++] = AND_K(1, access);
            jumps[checks++] = n; block[n++] = JEQ_K(1, 0, 0);
        }
    }
    if (r->major >= 0) { jumps[checks++] = n; block[n++] = JNE_K(4, (int32_t)r->major, 0); }
    if (r->minor >= 0) { jumps[checks++] = n; block[n++] = JNE_K(5, (int32_t)r->minor, 0); }
    block[n++] = MOV_K(0, r->allow ? 1 : 0);
    block[n++] = EXIT();
    for (int j = 0; j < checks; j++) block[jumps[j]].off = (int16_t)(n - jumps[j] - 1);
    if (out) memcpy(out, block, sizeof(struct bpf_insn) * n);
    return n;
}

int berth_cgroup_device_filter(int cgroup_fd, const berth_device_rule *rules, int count,
                               int default_allow, char *log, size_t log_size) {
    int total = 7;
    for (int i = 0; i < count; i++) total += emit_rule(&rules[i], NULL);
    struct bpf_insn *prog = calloc((size_t)total, sizeof *prog);
    if (!prog) return -ENOMEM;
    int n = 0;
    prog[n++] = LDX_W(2, 1, 0);
    prog[n++] = AND_K(2, 0xffff);
    prog[n++] = LDX_W(3, 1, 0);
    prog[n++] = RSH_K(3, 16);
    prog[n++] = LDX_W(4, 1, 4);
    prog[n++] = LDX_W(5, 1, 8);
    // The last matching rule wins, as when rules are written one by one to v1's
    // devices.allow/deny: emit them in reverse so the first match is the last rule.
    // Rules before a match-everything rule can never decide: they are left out.
    int decided = 0;
    for (int i = count - 1; i >= 0 && !decided; i--) {
        n += emit_rule(&rules[i], &prog[n]);
        decided = matches_all(&rules[i]);
    }
    if (!decided) {
        prog[n++] = MOV_K(0, default_allow ? 1 : 0);
        prog[n++] = EXIT();
    }

    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)prog;
    attr.insn_cnt = (uint32_t)n;
    attr.license = (uint64_t)(uintptr_t)"GPL";
    int prog_fd = (int)sys_bpf(BPF_PROG_LOAD, &attr);
    if (prog_fd < 0 && log && log_size > 0) {
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = (uint32_t)log_size;
        attr.log_level = 1;
        log[0] = 0;
        prog_fd = (int)sys_bpf(BPF_PROG_LOAD, &attr);
    }
    int err = errno;
    free(prog);
    if (prog_fd < 0) return -err;

    // Programs attached before (an earlier apply): replaced once the new one is in.
    uint32_t old_ids[64];
    uint32_t old_count = 64;
    memset(&attr, 0, sizeof attr);
    attr.query.target_fd = (uint32_t)cgroup_fd;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = (uint64_t)(uintptr_t)old_ids;
    attr.query.prog_cnt = old_count;
    if (sys_bpf(BPF_PROG_QUERY, &attr) < 0) {
        err = errno;
        close(prog_fd);
        return -err;
    }
    old_count = attr.query.prog_cnt;

    memset(&attr, 0, sizeof attr);
    attr.target_fd = (uint32_t)cgroup_fd;
    attr.attach_bpf_fd = (uint32_t)prog_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0) {
        err = errno;
        close(prog_fd);
        return -err;
    }
    close(prog_fd);

    for (uint32_t i = 0; i < old_count; i++) {
        memset(&attr, 0, sizeof attr);
        attr.prog_id = old_ids[i];
        int old_fd = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
        if (old_fd < 0) continue;  // already gone
        memset(&attr, 0, sizeof attr);
        attr.target_fd = (uint32_t)cgroup_fd;
        attr.attach_bpf_fd = (uint32_t)old_fd;
        attr.attach_type = BPF_CGROUP_DEVICE;
        long rc = sys_bpf(BPF_PROG_DETACH, &attr);
        err = errno;
        close(old_fd);
        if (rc < 0 && err != ENOENT) return -err;
    }
    return 0;
}

int berth_cgroup_device_program_count(int cgroup_fd) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.query.target_fd = (uint32_t)cgroup_fd;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    if (sys_bpf(BPF_PROG_QUERY, &attr) < 0) return -errno;
    return (int)attr.query.prog_cnt;
}
