#!/usr/bin/env bash
# Runs every mqtt-lab-bench scenario against our broker, Debian's Mosquitto and rumqttd, side by
# side: each scenario runs once per broker in turn (A B C A B C ...), REPS times, with a fresh
# broker process per run, the broker pinned to one core and the load generator to another.
# Prints the medians and the ratios of ours to each peer; keeps every JSON line in $OUT.
#
#   scripts/bench-brokers.sh                      # everything, 5 repetitions
#   REPS=3 SCENARIOS="fanin-q0 latency-q1" BROKERS="mqtt-lab mosquitto" scripts/bench-brokers.sh
#   LOAD_SPIN=1 scripts/bench-brokers.sh          # a busy loop shares the load generator's core
#                                                 # (the setting where Mosquitto's p99 is ~3 ms)
#   SECURITY=psk scripts/bench-brokers.sh         # over TLS-PSK, as the course's port 8883
#                                                 # (ours and Mosquitto: rumqttd has no TLS-PSK)
#   WS=1 scripts/bench-brokers.sh                 # MQTT over WebSocket (--ws, path /mqtt): ours with
#                                                 # `protocol websockets`, Mosquitto's websockets
#                                                 # listener, aedes behind `ws` (node, interop/node)
#                                                 # and rumqttd's [ws.1] when installed; scenarios
#                                                 # default to "fanin-q1 conn". With SECURITY=psk:
#                                                 # WebSocket over TLS-PSK, ours only
#   SCALE=5 CORES="1 2" SCENARIOS="fanin-q1 fanout-q0" BROKERS="mqtt-lab rumqttd" scripts/bench-brokers.sh
#                                                 # five times the messages per run (steadier
#                                                 # two-core figures; Mosquitto's fan-in QoS 1
#                                                 # then takes minutes a run)
#   CORES="1 2" SCENARIOS="fanin-q1 fanout-q0" scripts/bench-brokers.sh
#                                                 # each broker pinned to one core (as by default)
#                                                 # and unpinned on every core (the load
#                                                 # generator too), interleaved; labels say which
#                                                 # ("mqtt-lab@2cores"), and the ratios compare
#                                                 # ours on every core with everything else
#   MQTT_VERSION=5 scripts/bench-brokers.sh      # every client speaks MQTT 5 (--mqtt-version 5);
#                                                 # rumqttd gets a [v5.1] listener instead of
#                                                 # [v4.1]; the floor relay is 3.1.1 only
#   BROKERS="before=/tmp/old-broker mqtt-lab" scripts/bench-brokers.sh
#                                                 # NAME=PATH: another build of our broker (an
#                                                 # A/B of two commits in one run), labelled
#                                                 # NAME, run as ours is
#   SCENARIOS=latency-q1 BROKERS="floor mqtt-lab mosquitto" scripts/bench-brokers.sh
#                                                 # floor: `mqtt-lab-bench relay`, a forwarder
#                                                 # that does the least a broker can (no topics,
#                                                 # queues or retained messages): the machine's
#                                                 # latency floor (plain TCP only)
#
# Needs: mosquitto (apt-get install mosquitto), rumqttd (cargo install rumqttd --version ^0.20),
# taskset (util-linux), python3 (to find free ports); WS=1: node and `npm ci --prefix interop/node`.
set -euo pipefail
cd "$(dirname "$0")/.."

REPS=${REPS:-5}
# Multiplies the message counts of the throughput scenarios: a fan-out run of ours is 0.17 s at
# 1, short enough that two-core figures move by a tenth between runs.
SCALE=${SCALE:-1}
BROKER_CORE=${BROKER_CORE:-0}
LOAD_CORE=${LOAD_CORE:-1}
CORES=${CORES:-1}
ALL_CORES=$(nproc)
# The setting of the run in progress: 1 (pinned) or every core.
cores=1
# Runs a broker, or the load generator, on its own core when pinned; unpinned otherwise. A
# broker is started with `&`, so the function runs in a subshell: `exec` makes the broker that
# process, so that $! is the broker's pid (its memory is read through it).
pin_broker() { if [ "$cores" = 1 ]; then exec taskset -c "$BROKER_CORE" "$@"; else exec "$@"; fi; }
pin_load() { if [ "$cores" = 1 ]; then taskset -c "$LOAD_CORE" "$@"; else "$@"; fi; }
SECURITY=${SECURITY:-tcp}
WS=${WS:-0}
# rumqttd serves WebSocket only when built with its websocket feature: in the list when
# installed, and a run it fails is reported as failed.
WS_PEERS="mosquitto aedes"
command -v rumqttd >/dev/null && WS_PEERS="$WS_PEERS rumqttd"
case "$SECURITY/$WS" in
    tcp/0) BROKERS=${BROKERS:-"mqtt-lab mosquitto rumqttd"} ;;
    psk/0) BROKERS=${BROKERS:-"mqtt-lab mosquitto"} ;;
    tcp/1) BROKERS=${BROKERS:-"mqtt-lab $WS_PEERS"} ;;
    # Mosquitto's websockets (libwebsockets) has no TLS-PSK; aedes and rumqttd neither.
    psk/1) BROKERS=${BROKERS:-"mqtt-lab"} ;;
    *) echo "SECURITY is tcp or psk, WS is 0 or 1" >&2; exit 2 ;;
esac
# The course's identity and a 20-digit key (a test key, not a secret).
PSK_IDENTITY=btsiot1
PSK_KEY=0123456789abcdef0123
MQTT_VERSION=${MQTT_VERSION:-3.1.1}
case "$MQTT_VERSION" in
    3.1.1 | 4 | 311) MQTT_VERSION=3.1.1 ;;
    5) ;;
    *) echo "MQTT_VERSION is 3.1.1 or 5" >&2; exit 2 ;;
esac
case " $BROKERS " in
    *" floor "*) [ "$MQTT_VERSION" = 5 ] && { echo "the floor relay speaks MQTT 3.1.1 only" >&2; exit 2; } ;;
esac
if [ "$WS" = 1 ]; then
    SCENARIOS=${SCENARIOS:-"fanin-q1 conn"}
else
    SCENARIOS=${SCENARIOS:-"fanin-q0 fanin-q1 fanin-q2 fanout-q0 latency-q1 conn retained"}
fi
OUT=${OUT:-target/bench-brokers/results-$(date +%Y%m%d-%H%M%S).jsonl}
WORK=$(mktemp -d)
LOAD_SPIN=${LOAD_SPIN:-0}
SPIN_PID=""
trap 'stop_broker; [ -z "$SPIN_PID" ] || kill "$SPIN_PID" 2>/dev/null; rm -rf "$WORK"' EXIT

args_of() {
    case "$1" in
        fanin-q0) echo "fanin --qos 0 --publishers 4 --count $((250000 * SCALE))" ;;
        fanin-q1) echo "fanin --qos 1 --publishers 4 --count $((100000 * SCALE))" ;;
        fanin-q2) echo "fanin --qos 2 --publishers 4 --count $((50000 * SCALE))" ;;
        fanout-q0) echo "fanout --qos 0 --subscribers 50 --count $((20000 * SCALE))" ;;
        latency-q1) echo "latency --qos 1 --rate 1000 --count 5000" ;;
        conn) echo "conn --count 5000" ;;
        retained) echo "retained --count 10000" ;;
        *) echo "unknown scenario $1" >&2; exit 2 ;;
    esac
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

BROKER_PID=""
start_broker() {
    local name=$1 port=$2
    # Ours (the workspace's build, or another one given as NAME=PATH) or Mosquitto: one config.
    local bin=/usr/sbin/mosquitto kind=$name
    case "$name" in
        mqtt-lab) bin=target/release/mqtt-lab-broker ;;
        *=*)
            bin=${name#*=} name=${name%%=*} kind=mqtt-lab
            case "$name" in
                "" | mqtt-lab | mosquitto | rumqttd | aedes | floor)
                    echo "NAME=PATH: NAME must be a new label, not \"$name\"" >&2
                    exit 2
                    ;;
            esac
            ;;
    esac
    case "$kind" in
        mqtt-lab | mosquitto)
            if [ "$WS" = 0 ]; then
                printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" >"$WORK/$name.conf"
            elif [ "$kind" = mqtt-lab ]; then
                printf 'listener %s 127.0.0.1\nprotocol websockets\nallow_anonymous true\n' "$port" >"$WORK/$name.conf"
            else
                # Mosquitto 2.0.11 exits when every listener is websockets ("Unable to start any
                # listening sockets"): a TCP one first. libwebsockets takes the bind address as
                # an interface name: "lo" is 127.0.0.1 ("127.0.0.1" fails).
                printf 'listener %s 127.0.0.1\nlistener %s lo\nprotocol websockets\nallow_anonymous true\n' \
                    "$(free_port)" "$port" >"$WORK/$name.conf"
            fi
            if [ "$SECURITY" = psk ]; then
                printf '%s:%s\n' "$PSK_IDENTITY" "$PSK_KEY" >"$WORK/pskfile"
                # Mosquitto started as root reads it as the user "mosquitto".
                chmod a+rx "$WORK"
                printf 'psk_hint btsiot\npsk_file %s\n' "$WORK/pskfile" >>"$WORK/$name.conf"
            fi
            pin_broker "$bin" -c "$WORK/$name.conf" >"$WORK/$name.log" 2>&1 &
            ;;
        aedes)
            # aedes-ws.js picks its own port and prints it; it stops when its stdin closes, so
            # stdin is a FIFO held open on fd 4 until stop_broker.
            rm -f "$WORK/aedes.in" "$WORK/aedes.out"
            mkfifo "$WORK/aedes.in"
            pin_broker node interop/node/aedes-ws.js /mqtt <"$WORK/aedes.in" >"$WORK/aedes.out" 2>"$WORK/aedes.log" &
            BROKER_PID=$!
            exec 4>"$WORK/aedes.in"
            for _ in $(seq 200); do
                port=$(sed -n 's/^listening //p' "$WORK/aedes.out")
                [ -n "$port" ] && break
                sleep 0.05
            done
            BROKER_PORT=$port
            ;;
        floor)
            pin_broker target/release/mqtt-lab-bench relay --port "$port" >"$WORK/floor.log" 2>&1 &
            ;;
        rumqttd)
            # rumqttd 0.20 serves MQTT 3.1.1 on [v4.N] listeners and MQTT 5 on [v5.N] ones.
            local v=v4
            [ "$MQTT_VERSION" = 5 ] && v=v5
            [ "$WS" = 1 ] && v=ws
            cat >"$WORK/rumqttd.toml" <<TOML
id = 0
[router]
id = 0
max_connections = 10010
max_outgoing_packet_count = 200
max_segment_size = 104857600
max_segment_count = 10
[$v.1]
name = "$v-1"
listen = "127.0.0.1:$port"
next_connection_delay_ms = 1
    [$v.1.connections]
    connection_timeout_ms = 60000
    max_payload_size = 20480
    max_inflight_count = 100
    dynamic_filters = true
TOML
            pin_broker rumqttd -q -c "$WORK/rumqttd.toml" >"$WORK/rumqttd.log" 2>&1 &
            ;;
    esac
    [ "$kind" = aedes ] || BROKER_PID=$!
    BROKER_PORT=$port
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "$name did not start listening on $port; its log:" >&2
    cat "$WORK/$name.log" >&2
    exit 1
}

stop_broker() {
    if [ -n "$BROKER_PID" ]; then
        kill "$BROKER_PID" 2>/dev/null || true
        wait "$BROKER_PID" 2>/dev/null || true
        BROKER_PID=""
    fi
    # aedes' stdin (see start_broker); closing an fd that is not open is harmless. (No
    # redirection on this exec: it would stay on the shell.)
    exec 4>&-
}

cargo build --release -p mqtt-lab-broker -p mqtt-lab-bench
case " $BROKERS " in
    *" aedes "*) [ -f interop/node/node_modules/aedes/package.json ] || npm ci --prefix interop/node --no-audit --no-fund ;;
esac
ulimit -n "$(ulimit -Hn)"
mkdir -p "$(dirname "$OUT")"
echo "mosquitto: $(/usr/sbin/mosquitto -h 2>&1 | head -1); rumqttd: $(rumqttd -V 2>&1 || echo missing)" >&2
if [ "$LOAD_SPIN" = 1 ]; then
    taskset -c "$LOAD_CORE" sh -c 'while :; do :; done' &
    SPIN_PID=$!
fi
EXTRA_ARGS=()
[ "$SECURITY" = psk ] && EXTRA_ARGS=(--psk-identity "$PSK_IDENTITY" --psk "$PSK_KEY")
[ "$WS" = 1 ] && EXTRA_ARGS+=(--ws --path /mqtt)
EXTRA_ARGS+=(--mqtt-version "$MQTT_VERSION")
echo "MQTT $MQTT_VERSION$([ "$WS" = 1 ] && echo ' over WebSocket'); load: $(cat /proc/loadavg)" >&2
ours=mqtt-lab
[ "$CORES" = 1 ] || ours="mqtt-lab@${ALL_CORES}cores"
for rep in $(seq "$REPS"); do
    for scenario in $SCENARIOS; do
        for cores in $CORES; do
            [ "$cores" = 1 ] || cores=$ALL_CORES
            for broker in $BROKERS; do
                label=${broker%%=*}
                [ "$CORES" = 1 ] || label="$label@${cores}core$([ "$cores" = 1 ] || echo s)"
                port=$(free_port)
                start_broker "$broker" "$port"
                echo "== run $rep/$REPS: $scenario on $label (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
                # shellcheck disable=SC2046
                pin_load target/release/mqtt-lab-bench $(args_of "$scenario") \
                    --port "$BROKER_PORT" --label "$label" --pid "$BROKER_PID" "${EXTRA_ARGS[@]}" --quiet >>"$OUT" ||
                    echo "   (failed: $scenario on $label)" >&2
                stop_broker
            done
        done
    done
done
echo "Results: $OUT" >&2
target/release/mqtt-lab-bench summarize "$OUT" --ours "$ours"
