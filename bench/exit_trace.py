#!/usr/bin/env python3
"""Splits each kill(2) → /tasks/exit of an ftrace capture into its hops, and tells
which of the slow ones had another program holding a CPU meanwhile.

    exit_trace.py TRACE BERTHD_IO_TID [--show N] [--skip N]

TRACE is /sys/kernel/tracing/trace as bench/exit-trace.sh captures it (sched_wakeup,
sched_switch, sched_process_exit, and the kill, wait4, read and write syscalls) while
`berth-bench task-exit --via 'kill(2)'` runs; BERTHD_IO_TID is berthd's I/O thread.
Each kill is split at: the container process's exit, the shim's wake-up and its
wait4, berthd's wake-up, its read and its journal write, the subscriber's wake-up,
its run and its read. The kills are the subscriber's own (SIGKILLs sent by a thread
of the bench, `NIO-*`, not berthd's); the first --skip of them are warmups. A kill
whose marks are not all found before the next kill is counted in `kills`, not in
`followed`.

A kill's window is "shared" when programs that are none of the exit's own (Berth's
processes, the subscriber, the container, the kernel threads that do the exit's work)
ran for 50 µs or more of it in total on either CPU: what a shared host's other
programs cost.
"""
import re
import sys
from collections import Counter
from statistics import median

LINE = re.compile(r'^\s*(.+)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+):\s+(\S+?):?\s(.*)$')
SWITCH = re.compile(r'prev_comm=(.*?) prev_pid=(\d+) .*next_comm=(.*?) next_pid=(\d+)')
KILL_PID = re.compile(r'^(0x[0-9a-f]+|\d+), sig: 9\b')
# The exit's own: Berth, the container (busybox sleep), and the kernel's helpers.
OWN = re.compile(r'^(berth|NIO-|-qos|oot\.|sleep$|kworker|ksoftirqd|rcu|swapper|migration|cpuhp|irq/)')
SEGMENTS = [
    ('exit', 'kill → the process exits'),
    ('shim_wake', 'exit → shim woken (the kernel: memory, files, cgroups, SIGCHLD)'),
    ('shim_reaped', 'shim woken → its wait4'),
    ('berthd_wake', 'wait4 → berthd woken (the shim: OOM check, the event)'),
    ('berthd_read', 'berthd woken → its read'),
    ('journal', 'read → journal write'),
    ('sub_wake', 'journal write → subscriber woken'),
    ('sub_run', 'subscriber woken → runs'),
    ('sub_read', 'runs → reads the event'),
]


def parse(path):
    events = []
    with open(path, errors='replace') as f:
        for line in f:
            m = LINE.match(line)
            if m:
                events.append((m.group(1).strip(), int(m.group(2)), int(m.group(3)), float(m.group(4)),
                               m.group(5), m.group(6)))
    return events


WAKEUP = re.compile(r'comm=(.*?) pid=(\d+) ')


def foreign_runs(events):
    """(start, end, comm) of every run of a program that is not the exit's own: from
    the switch to it to the CPU's next switch. The trace can lack switches (this host
    leaves some processes' context untraced, and a wake-up on an idle CPU can go
    without its switch): a switch away from a task other than the one switched to is
    also counted, from that task's wake-up."""
    runs, current, woken = [], {}, {}
    for comm, _, cpu, t, name, rest in events:
        if name == 'sched_wakeup':
            m = WAKEUP.search(rest)
            if m:
                woken[int(m.group(2))] = t
            continue
        if name != 'sched_switch':
            continue
        m = SWITCH.search(rest)
        if not m:
            continue
        was, pid = m.group(1), int(m.group(2))
        if cpu in current:
            last_comm, last_pid, start = current[cpu]
            if not OWN.match(last_comm):
                runs.append((start, t, last_comm))
            if last_pid != pid and not OWN.match(was):
                runs.append((max(start, woken.get(pid, start)), t, was))
        current[cpu] = (m.group(3), int(m.group(4)), t)
    return runs


def split(events, berthd, skip):
    kills = [i for i, e in enumerate(events)
             if e[4] == 'sys_kill(pid' and e[1] != berthd and e[0].startswith('NIO-') and KILL_PID.search(e[5])]
    if not kills:
        sys.exit('exit_trace: no kill(2) with SIGKILL from the bench in the trace')
    bench = Counter(events[i][1] for i in kills).most_common(1)[0][0]
    kills = [i for i in kills if events[i][1] == bench][skip:]
    samples = []
    for n, i in enumerate(kills):
        pid = int(KILL_PID.search(events[i][5]).group(1), 0)
        t0, marks = events[i][3], {}
        end = kills[n + 1] if n + 1 < len(kills) else len(events)
        for comm, tid, _, t, name, rest in events[i + 1:end]:
            if 'exit' not in marks:
                if name == 'sched_process_exit' and f'pid={pid} ' in rest:
                    marks['exit'] = t
            elif 'shim_wake' not in marks:
                if name == 'sched_wakeup' and 'comm=berth-shim' in rest:
                    marks['shim_wake'] = t
            elif 'shim_reaped' not in marks:
                if name == 'sys_wait4' and rest.strip() == f'-> {pid:#x}':
                    marks['shim_reaped'] = t
            elif 'berthd_wake' not in marks:
                if (name == 'sched_wakeup' and f'pid={berthd} ' in rest) or tid == berthd:
                    marks['berthd_wake'] = t
            elif 'berthd_read' not in marks:
                if tid == berthd and name == 'sys_read':
                    marks['berthd_read'] = t
            elif 'journal' not in marks:
                if tid == berthd and name == 'sys_write(fd':
                    marks['journal'] = t
            elif 'sub_wake' not in marks:
                if name == 'sched_wakeup' and f'pid={bench} ' in rest:
                    marks['sub_wake'] = t
            elif 'sub_run' not in marks:
                if (name == 'sched_switch' and f'next_pid={bench} ' in rest) or tid == bench:
                    marks['sub_run'] = t
            if 'sub_run' in marks and tid == bench and name == 'sys_read':
                marks['sub_read'] = t
                break
        if 'sub_read' not in marks:
            continue
        parts, previous = {}, t0
        for key, _ in SEGMENTS:
            parts[key] = (marks[key] - previous) * 1e6
            previous = marks[key]
        samples.append({'t0': t0, 'end': marks['sub_read'], 'total': (marks['sub_read'] - t0) * 1e6, 'parts': parts})
    return samples, len(kills)


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else 0


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    show = int(sys.argv[sys.argv.index('--show') + 1]) if '--show' in sys.argv else 5
    skip = int(sys.argv[sys.argv.index('--skip') + 1]) if '--skip' in sys.argv else 0
    events = parse(sys.argv[1])
    samples, kills = split(events, int(sys.argv[2]), skip)
    if not samples:
        sys.exit('exit_trace: no kill could be followed to the subscriber\'s read')
    runs = foreign_runs(events)
    for s in samples:
        s['foreign_us'], s['foreign'] = 0.0, set()
        for start, end, comm in runs:
            overlap = min(end, s['end']) - max(start, s['t0'])
            if overlap > 0:
                s['foreign_us'] += overlap * 1e6
                if overlap > 50e-6:
                    s['foreign'].add(comm)
    print(f'exit_trace kills={kills} followed={len(samples)}')
    print(f'{"segment":<12} {"p50":>6} {"p90":>6} {"p99":>6}  (µs)')
    for key, what in SEGMENTS:
        values = [s['parts'][key] for s in samples]
        print(f'{key:<12} {pct(values, .5):6.0f} {pct(values, .9):6.0f} {pct(values, .99):6.0f}  {what}')
    totals = [s['total'] for s in samples]
    print(f'{"total":<12} {pct(totals, .5):6.0f} {pct(totals, .9):6.0f} {pct(totals, .99):6.0f}  max {max(totals):.0f}')
    clean = [s['total'] for s in samples if s['foreign_us'] < 50]
    shared = [s for s in samples if s['foreign_us'] >= 50]
    print(f'exit_trace.clean count={len(clean)} p50_us={pct(clean, .5):.0f} p99_us={pct(clean, .99):.0f} '
          f'max_us={max(clean) if clean else 0:.0f}  (other programs ran under 50 µs of the window)')
    print(f'exit_trace.shared count={len(shared)} p50_us={pct([s["total"] for s in shared], .5):.0f} '
          f'median_foreign_us={median([s["foreign_us"] for s in shared]) if shared else 0:.0f}')
    slow = [s for s in samples if s['total'] > 2000]
    print(f'exit_trace.over_2ms count={len(slow)} with_another_program={sum(1 for s in slow if s["foreign_us"] >= 50)}')
    for s in sorted(samples, key=lambda s: s['total'])[-show:]:
        parts = ' '.join(f'{k}={s["parts"][k]:.0f}' for k, _ in SEGMENTS)
        who = ','.join(sorted(s['foreign'])) or '-'
        print(f'  slowest {s["total"]:6.0f} µs  foreign {s["foreign_us"]:5.0f} µs ({who})  {parts}')


if __name__ == '__main__':
    main()
