"""paho-mqtt 2.x (a WebSocket MQTT client no one here wrote) run through one scenario against a
broker over transport="websockets", printing one JSON line per thing it saw, so the Rust test
judges the broker by what a real client received. Every wait is bounded by TIMEOUT seconds.

Usage: python paho_ws.py URL VERSION [CA_FILE]
  URL      ws://127.0.0.1:PORT/mqtt or wss://localhost:PORT/mqtt
  VERSION  3 (MQTT 3.1), 4 (3.1.1) or 5
  CA_FILE  PEM of the CA that signed a wss:// server's certificate

The scenario is interop/node/ws-client.js's, under the topic prefix lab/: "sub" subscribes to
lab/# at QoS 2; "pub" publishes lab/q0, lab/q1, lab/q2 at QoS 0, 1, 2, 70000 bytes on lab/big
and a retained lab/retained; "late" subscribes to lab/retained afterwards; a child process
connects with a will on lab/will and is killed with SIGKILL; "sub" must get the will.
Lines: {"event":"connack","client":..} {"event":"suback","client":..,"granted":[..]}
       {"event":"msg","client":..,"topic":..,"payload":..,"len":N,"qos":N,"retain":bool}
       {"event":"done"} or {"event":"error","text":..}
"""

import json
import os
import queue
import subprocess
import sys
import threading
import time
from urllib.parse import urlparse

import paho.mqtt.client as mqtt

TIMEOUT = 20.0
URL, VERSION = sys.argv[1], int(sys.argv[2])
CA_FILE = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
ROLE = sys.argv[4] if len(sys.argv) > 4 else "scenario"
PROTOCOLS = {3: mqtt.MQTTv31, 4: mqtt.MQTTv311, 5: mqtt.MQTTv5}
DEADLINE = time.monotonic() + TIMEOUT
PRINT = threading.Lock()


def emit(**event):
    with PRINT:
        print(json.dumps(event, separators=(",", ":")), flush=True)


def left():
    """Seconds left before the whole run gives up."""
    return max(0.0, DEADLINE - time.monotonic())


def fail(text):
    emit(event="error", text=text)
    os._exit(1)


class Client:
    """One paho client on its own network thread; what it receives goes to a queue."""

    def __init__(self, client_id, will=None):
        self.id = client_id
        self.events = queue.Queue()
        url = urlparse(URL)
        self.mqtt = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=PROTOCOLS[VERSION],
            transport="websockets",
            clean_session=None if VERSION == 5 else True,
        )
        self.mqtt.ws_set_options(path=url.path or "/")
        if url.scheme == "wss":
            self.mqtt.tls_set(ca_certs=CA_FILE)
        if will:
            self.mqtt.will_set(*will)
        self.mqtt.on_connect = lambda c, u, flags, rc, props: self.events.put(("connack", rc))
        self.mqtt.on_subscribe = lambda c, u, mid, codes, props: self.events.put(("suback", codes))
        self.mqtt.on_publish = lambda c, u, mid, rc, props: self.events.put(("published", mid))
        self.mqtt.on_message = self.on_message
        self.mqtt.on_disconnect = lambda c, u, flags, rc, props: self.events.put(("disconnected", rc))
        kwargs = {"clean_start": True} if VERSION == 5 else {}
        try:
            self.mqtt.connect(url.hostname, url.port, keepalive=60, **kwargs)
        except Exception as e:  # noqa: BLE001 - the test wants the reason, whatever it is
            fail(f"{client_id}: {type(e).__name__}: {e}")
        self.mqtt.loop_start()
        rc = self.expect("connack")
        if rc.is_failure:
            fail(f"{client_id}: CONNACK {rc}")
        emit(event="connack", client=client_id)

    def on_message(self, _client, _userdata, msg):
        payload = msg.payload
        text = payload[:16].decode() + "..." if len(payload) > 64 else payload.decode()
        self.events.put(("msg", None))
        emit(event="msg", client=self.id, topic=msg.topic, payload=text, len=len(payload), qos=msg.qos,
             retain=bool(msg.retain))

    def expect(self, kind):
        """The next event of `kind`; other events in between are dropped, except a disconnect."""
        while True:
            try:
                got, value = self.events.get(timeout=left())
            except queue.Empty:
                fail(f"{self.id}: no {kind} within {TIMEOUT} s")
            if got == kind:
                return value
            if got == "disconnected":
                fail(f"{self.id}: disconnected ({value}) while waiting for {kind}")

    def subscribe(self, topic, qos):
        self.mqtt.subscribe(topic, qos)
        codes = self.expect("suback")
        emit(event="suback", client=self.id, granted=[c.value for c in codes])

    def publish(self, topic, payload, qos, retain=False):
        info = self.mqtt.publish(topic, payload, qos, retain)
        info.wait_for_publish(timeout=left())
        if not info.is_published():
            fail(f"{self.id}: {topic} not acknowledged within {TIMEOUT} s")

    def end(self):
        self.mqtt.disconnect()
        self.mqtt.loop_stop()


def kill_will_client():
    """Starts the will client, kills it (SIGKILL) once it is connected."""
    child = subprocess.Popen([sys.executable, __file__, URL, str(VERSION), CA_FILE or "", "will"],
                             stdout=subprocess.PIPE, text=True)
    lines = []
    for line in child.stdout:
        lines.append(line)
        if '"ready"' in line:
            break
    child.kill()
    child.wait(timeout=left())
    if not lines or '"ready"' not in lines[-1]:
        fail(f"the will client did not connect: {''.join(lines)!r}")


def scenario():
    sub = Client("sub")
    sub.subscribe("lab/#", 2)
    pub = Client("pub")
    pub.publish("lab/q0", b"zero", 0)
    pub.publish("lab/q1", b"one", 1)
    pub.publish("lab/q2", b"two", 2)
    pub.publish("lab/big", b"b" * 70000, 1)
    pub.publish("lab/retained", b"kept", 1, retain=True)
    late = Client("late")
    late.subscribe("lab/retained", 1)
    late.expect("msg")
    kill_will_client()
    for _ in range(6):
        sub.expect("msg")
    for client in (sub, pub, late):
        client.end()
    emit(event="done")


def will_client():
    Client("dying", will=("lab/will", b"gone", 1, False))
    emit(event="ready")
    time.sleep(left())


if __name__ == "__main__":
    if ROLE == "will":
        will_client()
    else:
        scenario()
    os._exit(0)
