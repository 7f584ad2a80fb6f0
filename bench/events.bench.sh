# shellcheck shell=bash
# Event stream throughput and latency. Sourced by bench/run.sh after bench/lib.sh.
#
# (a) events/s delivered to 1 and to 10 subscribers: berth-bench events publishes
#     EVENTS_COUNT events through events.publish (EVENTS_WINDOW calls in flight) and
#     times until every subscriber has all of them; each subscriber is a plain socket
#     read by a thread of its own, so the client library's cost is not measured.
# (b) publish -> delivery latency, one event at a time (EVENTS_LATENCY_COUNT): from
#     sending events.publish to the event's arrival at a subscriber, median and p99.
#     This is the proxy for the issue's "kill -> /tasks/exit at a subscriber" figure,
#     which needs tasks and shims (issue 4): the exit path will add the shim's
#     notification to the same publish -> journal -> subscriber path measured here.
#
# No containerd counterpart is measured: its event stream has no publish RPC a Go-less
# client can drive, and MEASURED.md already has ctr's kill -> /tasks/exit (19.6 ms
# through ctr, 2.4 ms on a direct kill).

: "${EVENTS_COUNT:=20000}"
: "${EVENTS_WINDOW:=256}"
: "${EVENTS_SUBSCRIBERS:=1,10}"
: "${EVENTS_LATENCY_COUNT:=5000}"

# The default subscriber_queue (1024 events of slack) is sized for real event rates;
# a flood of 20,000 events/s on a 2-core machine with 10 reader threads can starve a
# reader for the ~60 ms that takes, and berthd then drops it, as it should. The bench
# measures delivery, so it allows more slack (the daemon's memory does not depend on
# it: a subscriber costs its cursor and its connection's buffer, however far behind).
: "${EVENTS_SUBSCRIBER_QUEUE:=65536}"

require_bin berth-bench

BENCH_BERTHD_CONFIG="$(printf '[events]\nsubscriber_queue = %s' "$EVENTS_SUBSCRIBER_QUEUE")"
start_berthd

bench_section "(a) events/s delivered to ${EVENTS_SUBSCRIBERS} subscribers (count=$EVENTS_COUNT, window=$EVENTS_WINDOW) and (b) publish->delivery latency (count=$EVENTS_LATENCY_COUNT)"
"$BIN/berth-bench" events --address "$BERTH_SOCK" --count "$EVENTS_COUNT" --window "$EVENTS_WINDOW" \
    --subscribers "$EVENTS_SUBSCRIBERS" --latency-count "$EVENTS_LATENCY_COUNT"

bench_section "berthd after the run"
echo "events.berthd rss_kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$BERTH_PID/status") journal_bytes=$(du -sb "$BERTH_ROOT/events" | cut -f1)"

stop_berthd
