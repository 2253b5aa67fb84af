#!/usr/bin/env bash
# The soak: COUNT connections (5,000) held for DURATION seconds (600, once all are open) against
# a broker, with keepalive pings (30 s) and a mixed QoS 0/1/2 load (50 publishers at 500 msg/s
# in all to 50 subscribers), sampling the broker's memory every 10 s. The connections open in a
# connect storm (AT_ONCE=1000 attempts in flight per load generator); a refused attempt (TCP
# refused or reset, no CONNACK within 30 s, a non-zero CONNACK) is counted, not retried. Not
# part of the test run: it takes the whole duration. Exits 1 if a connection was refused or lost or a
# message did not arrive; 2 if this machine cannot hold COUNT connections.
#
#   scripts/soak.sh                                        # our broker, 5,000 x 600 s
#   BROKER=mosquitto COUNT=1000 DURATION=60 scripts/soak.sh
#   COUNT=100000 scripts/soak.sh                           # needs ulimit -Hn above 100,000
#
# Two limits of one machine, and how the script gets past them:
# - one process holds at most `ulimit -Hn` sockets: COUNT is split over several load
#   generators of at most PER_PROCESS connections (ulimit -Hn less 500); the first carries the
#   publishers and subscribers, the others idle connections. The broker is one process: it
#   needs COUNT open files, checked before anything starts.
# - one source address reaches the broker from about 28,000 ports (ip_local_port_range): each
#   generator binds its clients to its own addresses of 127.0.0.0/8, a new one every
#   PER_SOURCE (25,000) connections, from FIRST_SOURCE (127.0.0.2).
# BROKER_BIN=path runs that broker binary (a build of a given commit) instead of this tree's.
# SOMAXCONN=N sets net.core.somaxconn first (root in the network namespace), which caps every
# listen backlog; the storm shows a small one as connect times of 1 s and more.
#
# The JSON line (every sample, the storm's figures) goes to $OUT; the first generator's samples
# are printed as they are taken.
set -euo pipefail
cd "$(dirname "$0")/.."

BROKER=${BROKER:-mqtt-lab}
COUNT=${COUNT:-5000}
DURATION=${DURATION:-600}
AT_ONCE=${AT_ONCE:-1000}
PER_SOURCE=${PER_SOURCE:-25000}
FIRST_SOURCE=${FIRST_SOURCE:-127.0.0.2}
OUT=${OUT:-target/soak/soak-$BROKER-$(date +%Y%m%d-%H%M%S).json}
# Open files the broker needs besides its connections (listener, log, epoll, persistence).
BROKER_SPARE=100
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=$((1 << 30))
PER_PROCESS=${PER_PROCESS:-$((hard - 500))}

case "$BROKER" in
    mqtt-lab) bin=${BROKER_BIN:-target/release/mqtt-lab-broker} ;;
    mosquitto) bin=${BROKER_BIN:-/usr/sbin/mosquitto} ;;
    *) echo "BROKER is mqtt-lab or mosquitto, not $BROKER" >&2; exit 2 ;;
esac
# Each connection is a file descriptor in the broker, one process: no split helps it.
if [ $((COUNT + BROKER_SPARE)) -gt "$hard" ]; then
    echo "COUNT=$COUNT needs $((COUNT + BROKER_SPARE)) open files in the broker (one per connection and" \
        "$BROKER_SPARE more); this machine allows $hard (ulimit -Hn). Raise the hard limit (ulimit -Hn as" \
        "root with CAP_SYS_RESOURCE, LimitNOFILE= in a systemd unit, /etc/security/limits.conf)," \
        "or run COUNT=$((hard - BROKER_SPARE)) or less." >&2
    exit 2
fi
if [ $((PER_PROCESS + 64)) -gt "$hard" ] || [ "$PER_PROCESS" -lt 1 ]; then
    echo "PER_PROCESS=$PER_PROCESS: a load generator holds at most $((hard - 64)) connections here (ulimit -Hn $hard)" >&2
    exit 2
fi
file_max=$(cat /proc/sys/fs/file-max 2>/dev/null || echo $((1 << 62)))
if [ $((2 * COUNT + 1000)) -gt "$file_max" ]; then
    echo "COUNT=$COUNT needs $((2 * COUNT)) open files on the machine (broker and load generators);" \
        "fs.file-max is $file_max: raise it (sysctl fs.file-max)." >&2
    exit 2
fi
if [ -n "${SOMAXCONN:-}" ]; then
    echo "$SOMAXCONN" >/proc/sys/net/core/somaxconn
fi

WORK=$(mktemp -d)
BROKER_PID=""
GENERATORS=()
cleanup() {
    for pid in "${GENERATORS[@]}"; do kill "$pid" 2>/dev/null || true; done
    [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

if [ "$BROKER" = mqtt-lab ] && [ -z "${BROKER_BIN:-}" ]; then
    cargo build --release -p mqtt-lab-broker -p mqtt-lab-bench
else
    cargo build --release -p mqtt-lab-bench
fi
ulimit -n "$hard"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" >"$WORK/broker.conf"
"$bin" -c "$WORK/broker.conf" >"$WORK/broker.log" 2>&1 &
BROKER_PID=$!
for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.05
done
if ! kill -0 "$BROKER_PID" 2>/dev/null; then
    echo "$BROKER did not start:" >&2
    cat "$WORK/broker.log" >&2
    exit 1
fi
broker_files=$(awk '/^Max open files/ {print $4}' "/proc/$BROKER_PID/limits")
if [ "$broker_files" != unlimited ] && [ "$broker_files" -lt $((COUNT + BROKER_SPARE)) ]; then
    echo "the broker (pid $BROKER_PID) may open $broker_files files, below COUNT=$COUNT + $BROKER_SPARE" >&2
    exit 2
fi

# COUNT in near-equal shares of at most PER_PROCESS, each with its own source addresses.
processes=$(((COUNT + PER_PROCESS - 1) / PER_PROCESS))
ip_number() { local IFS=.; set -- $1; echo $((($1 << 24) + ($2 << 16) + ($3 << 8) + $4)); }
ip_text() { echo "$(($1 >> 24 & 255)).$(($1 >> 16 & 255)).$(($1 >> 8 & 255)).$(($1 & 255))"; }
next_source=$(ip_number "$FIRST_SOURCE")
skipped=0
echo "soak: $COUNT connections to $BROKER (pid $BROKER_PID, $broker_files open files) from $processes" \
    "load generator(s); somaxconn $(cat /proc/sys/net/core/somaxconn)," \
    "ip_local_port_range $(tr '\t' - </proc/sys/net/ipv4/ip_local_port_range)" >&2
mkdir -p "$(dirname "$OUT")"
# The kernel's view of the storm: accept queues that overflowed, SYNs sent again (for the whole
# network namespace: other programs' connections count too).
KERNEL_COUNTERS=(TcpExtListenOverflows TcpExtListenDrops TcpExtTCPSynRetrans TcpExtTCPReqQFullDoCookies)
export NSTAT_HISTORY=$WORK/nstat
nstat -n 2>/dev/null || true
for ((i = 0; i < processes; i++)); do
    share=$((COUNT / processes + (i < COUNT % processes ? 1 : 0)))
    addresses=$(((share + PER_SOURCE - 1) / PER_SOURCE))
    sources=""
    for ((a = 0; a < addresses; next_source++)); do
        ip=$(ip_text "$next_source")
        # An address with sockets left (TIME_WAIT of a killed run) has fewer ports: the next one.
        if [ -n "$(ss -Htan src "$ip" | head -1)" ] && [ $((skipped += 1)) -le 256 ]; then continue; fi
        sources="$sources${sources:+,}$ip"
        a=$((a + 1))
    done
    args=(soak --count "$share" --duration "$DURATION" --port "$port" --label "$BROKER" --source "$sources"
        --at-once "$AT_ONCE")
    echo "soak: generator $i: $share connections from $sources" >&2
    if [ "$i" -eq 0 ]; then
        target/release/mqtt-lab-bench "${args[@]}" --pid "$BROKER_PID" >"$WORK/g$i.json" \
            2> >(tee "$WORK/g$i.err" >&2) &
    else
        target/release/mqtt-lab-bench "${args[@]}" --publishers 0 --subscribers 0 --quiet \
            >"$WORK/g$i.json" 2>"$WORK/g$i.err" &
    fi
    GENERATORS+=($!)
done
failed=0
for i in "${!GENERATORS[@]}"; do
    if ! wait "${GENERATORS[$i]}"; then
        echo "load generator $i failed:" >&2
        tail -5 "$WORK/g$i.err" >&2
        failed=1
    fi
done
GENERATORS=()
[ "$failed" -eq 0 ] || exit 1
nstat -z -j "${KERNEL_COUNTERS[@]}" >"$WORK/kernel.json" 2>/dev/null || echo '{"kernel": null}' >"$WORK/kernel.json"
# One result from the generators' (a superset of one generator's, so `mqtt-lab-bench summarize`
# still reads it): sums, the longest storm, the broker's memory from the first generator.
python3 - "$COUNT" "$DURATION" "$processes" "$broker_files" "$WORK" >"$OUT" <<'PY'
import json, sys
count, duration, processes, files, work = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
runs = [json.loads(open(f"{work}/g{i}.json").read().splitlines()[-1]) for i in range(processes)]
storms = []
for i in range(processes):
    lines = [l for l in open(f"{work}/g{i}.err") if l.startswith("soak storm ")]
    storms.append(json.loads(lines[-1][len("soak storm "):]))
r = dict(runs[0])
for key in ("sent", "expected", "received", "lost", "duplicated", "connections", "disconnects"):
    r[key] = sum(x[key] for x in runs)
r["seconds"] = max(x["seconds"] for x in runs)
r["rate"] = r["received"] / duration
r["ramp_seconds"] = max(x["ramp_seconds"] for x in runs)
# Each generator's counts at the first one's sample times: its latest sample by then (all
# started together, and each samples on its own clock).
def at(samples, t):
    before = [s for s in samples if s["seconds"] <= t + 1.0]
    return before[-1] if before else None
merged = []
for s in runs[0]["samples"]:
    m = dict(s)
    for x in runs[1:]:
        o = at(x["samples"], s["seconds"])
        for key in ("connected", "disconnects", "published", "delivered"):
            m[key] += o[key] if o else 0
    merged.append(m)
r["samples"] = merged
r["requested"] = count
r["refused_connections"] = sum(s["refused"] for s in storms)
causes = {}
for s in storms:
    for cause, c in s["causes"].items():
        causes.setdefault(cause, {"count": 0, "first": c["first"]})["count"] += c["count"]
r["refused_by_cause"] = causes
r["connects_per_second"] = r["connections"] / r["ramp_seconds"] if r["ramp_seconds"] else 0.0
r["connect_ms_max"] = max((s["connect_ms"]["max"] or 0) for s in storms)
r["connects_over_1s"] = sum(s["over_1s"] for s in storms)
r["load_generators"] = storms
r["broker_open_files"] = None if files == "unlimited" else int(files)
r["somaxconn"] = int(open("/proc/sys/net/core/somaxconn").read())
r["kernel_counters"] = json.load(open(f"{work}/kernel.json"))["kernel"]
print(json.dumps(r))
PY
echo "Result: $OUT" >&2
python3 - "$OUT" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
rss = [s["rss_kb"] for s in r["samples"] if s.get("rss_kb")]
# Memory once every connection is open: flat, or growing with time.
held = [s["rss_kb"] for s in r["samples"] if s.get("rss_kb") and s["seconds"] > r["ramp_seconds"]] or rss
print(f"{r['label']}: {r['connections']}/{r['requested']} connections in {r['ramp_seconds']:.1f} s "
      f"({r['connects_per_second']:.0f}/s), {r['refused_connections']} refused, {r['disconnects']} lost; "
      f"{r['sent']} published, {r['received']}/{r['expected']} delivered, {r['lost']} lost, {r['duplicated']} duplicated; "
      f"broker RSS {min(rss)} KiB at the start, {min(held)} to {max(held)} KiB after the storm "
      f"({len(rss)} samples)", file=sys.stderr)
print(f"  connect storm: slowest {r['connect_ms_max']:.0f} ms, {r['connects_over_1s']} over 1 s; "
      f"kernel (whole namespace): {r['kernel_counters']}", file=sys.stderr)
for cause, c in r["refused_by_cause"].items():
    print(f"  refused, {cause}: {c['count']} (first: {c['first']})", file=sys.stderr)
sys.exit(1 if r["disconnects"] or r["lost"] or r["refused_connections"] else 0)
PY
