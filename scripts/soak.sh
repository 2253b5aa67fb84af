#!/usr/bin/env bash
# The soak: COUNT connections (5,000) held for DURATION seconds (600) against a broker, with
# keepalive pings (30 s) and a mixed QoS 0/1/2 load (50 publishers at 500 msg/s in all to 50
# subscribers), sampling the broker's memory every 10 s. Not part of the test run: it takes
# the whole duration. Exits non-zero if a connection was lost or a message did not arrive.
#
#   scripts/soak.sh                                        # our broker, 5,000 x 600 s
#   BROKER=mosquitto COUNT=1000 DURATION=60 scripts/soak.sh
#
# The JSON line (with every sample) goes to $OUT; the samples are printed as they are taken.
set -euo pipefail
cd "$(dirname "$0")/.."

BROKER=${BROKER:-mqtt-lab}
COUNT=${COUNT:-5000}
DURATION=${DURATION:-600}
OUT=${OUT:-target/soak/soak-$BROKER-$(date +%Y%m%d-%H%M%S).json}
WORK=$(mktemp -d)
BROKER_PID=""
trap '[ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null; rm -rf "$WORK"' EXIT

cargo build --release -p mqtt-lab-broker -p mqtt-lab-bench
# Each connection is a file descriptor in the broker and another in the load generator.
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -le "$COUNT" ]; then
    echo "the open-file limit ($(ulimit -n)) is below COUNT=$COUNT: raise it (ulimit -Hn)" >&2
    exit 2
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" >"$WORK/broker.conf"
case "$BROKER" in
    mqtt-lab) bin=target/release/mqtt-lab-broker ;;
    mosquitto) bin=/usr/sbin/mosquitto ;;
    *) echo "BROKER is mqtt-lab or mosquitto, not $BROKER" >&2; exit 2 ;;
esac
"$bin" -c "$WORK/broker.conf" >"$WORK/broker.log" 2>&1 &
BROKER_PID=$!
for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.05
done
mkdir -p "$(dirname "$OUT")"
target/release/mqtt-lab-bench soak --count "$COUNT" --duration "$DURATION" --port "$port" \
    --label "$BROKER" --pid "$BROKER_PID" >"$OUT"
echo "Result: $OUT" >&2
python3 - "$OUT" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
rss = [s["rss_kb"] for s in r["samples"] if s.get("rss_kb")]
print(f"{r['label']}: {r['connections']} connections in {r['ramp_seconds']:.1f} s, {r['disconnects']} lost; "
      f"{r['sent']} published, {r['received']}/{r['expected']} delivered, {r['lost']} lost, {r['duplicated']} duplicated; "
      f"broker RSS {min(rss)} to {max(rss)} KiB over {len(rss)} samples", file=sys.stderr)
sys.exit(1 if r["disconnects"] or r["lost"] else 0)
PY
