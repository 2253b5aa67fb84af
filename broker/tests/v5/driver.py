"""One paho-mqtt 2.x MQTT 5 client that the v5 interop tests drive: commands on stdin, events on stdout.

Usage: python driver.py PORT CLIENT_ID. A command is a line of words; `key=value` words set options
and properties. Each event is one line, so the Rust side can wait for it with a deadline. paho is
used from this one thread (client.loop), with no automatic reconnect: a broker's DISCONNECT or a
refused CONNACK stays the last word, as the tests need.

Commands:
  connect [clean=0|1] [sei=N] [user=U] [pass=P] [will=TOPIC] [will_payload=X] [will_qos=N] [wdi=N]
          [rpi=0|1] [rri=0|1]
  sub FILTER [qos=N] [nl=0|1] [rap=0|1] [rh=0|1|2] [sid=N]
  pub TOPIC PAYLOAD [qos=N] [retain=0|1] [ct=] [rt=] [cd=] [pfi=] [exp=] [alias=] [up=K:V]...
      TOPIC `-` is the empty topic (with a topic alias), PAYLOAD `-` the empty payload.
  sync     a round trip through the broker on sync/CLIENT_ID: all it sent before is then printed
  disconnect [rc=N] [sei=N]
  quit     exit without DISCONNECT

Events:
  connack rc=N sp=0|1 [props]    suback rc=N,N    puback rc=N    synced
  msg TOPIC PAYLOAD qos=N retain=0|1 [props]    disconnected rc=N [props]    error TEXT
"""

import os
import queue
import sys
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

PORT = int(sys.argv[1])
CID = sys.argv[2]
SYNC = "sync/" + CID

# Short names for the properties the tests read, in the order they are printed.
FIELDS = [
    ("pfi", "PayloadFormatIndicator"),
    ("exp", "MessageExpiryInterval"),
    ("ct", "ContentType"),
    ("rt", "ResponseTopic"),
    ("cd", "CorrelationData"),
    ("alias", "TopicAlias"),
    ("sid", "SubscriptionIdentifier"),
    ("sei", "SessionExpiryInterval"),
    ("rs", "ReasonString"),
    ("up", "UserProperty"),
]


def emit(*words):
    print(" ".join(str(w) for w in words if w != ""), flush=True)


def show(props):
    """The properties as `name=value` words, user properties in wire order with repeats."""
    if props is None:
        return ""
    words = []
    for short, name in FIELDS:
        if not hasattr(props, name):
            continue
        value = getattr(props, name)
        if name == "UserProperty":
            value = ",".join(f"{k}:{v}" for k, v in value)
        elif name == "CorrelationData":
            value = value.decode(errors="replace")
        elif name == "SubscriptionIdentifier":
            value = ",".join(str(i) for i in value)
        words.append(f"{short}={value}")
    return " ".join(words)


def options(words):
    """`key=value` words as a dict; `up` may repeat, so it is a list."""
    opts = {"up": []}
    for word in words:
        key, _, value = word.partition("=")
        if key == "up":
            opts["up"].append(tuple(value.split(":", 1)))
        else:
            opts[key] = value
    return opts


def publish_props(opts):
    props = Properties(PacketTypes.PUBLISH)
    if "pfi" in opts:
        props.PayloadFormatIndicator = int(opts["pfi"])
    if "exp" in opts:
        props.MessageExpiryInterval = int(opts["exp"])
    if "ct" in opts:
        props.ContentType = opts["ct"]
    if "rt" in opts:
        props.ResponseTopic = opts["rt"]
    if "cd" in opts:
        props.CorrelationData = opts["cd"].encode()
    if "alias" in opts:
        props.TopicAlias = int(opts["alias"])
    for pair in opts["up"]:
        props.UserProperty = pair
    return props


def on_connect(client, userdata, flags, reason_code, properties):
    emit("connack", f"rc={reason_code.value}", f"sp={int(flags.session_present)}", show(properties))


def on_subscribe(client, userdata, mid, reason_codes, properties):
    if mid in userdata["sync_mids"]:
        client.publish(SYNC, "sync", qos=1)
        return
    emit("suback", "rc=" + ",".join(str(rc.value) for rc in reason_codes), show(properties))


def on_publish(client, userdata, mid, reason_code, properties):
    if mid in userdata["pub_mids"]:
        emit("puback", f"rc={reason_code.value}", show(properties))


def on_message(client, userdata, msg):
    if msg.topic == SYNC:
        emit("synced")
        return
    payload = msg.payload.decode(errors="replace") or "-"
    emit("msg", msg.topic, payload, f"qos={msg.qos}", f"retain={int(msg.retain)}", show(msg.properties))


def on_disconnect(client, userdata, flags, reason_code, properties):
    emit("disconnected", f"rc={reason_code.value}", f"packet={int(flags.is_disconnect_packet_from_server)}", show(properties))


def connect(client, opts):
    if "user" in opts:
        client.username_pw_set(opts["user"], opts.get("pass"))
    if "will" in opts:
        will_props = Properties(PacketTypes.WILLMESSAGE)
        if "wdi" in opts:
            will_props.WillDelayInterval = int(opts["wdi"])
        client.will_set(opts["will"], opts.get("will_payload", "will"), int(opts.get("will_qos", 0)), False, will_props)
    props = Properties(PacketTypes.CONNECT)
    if "sei" in opts:
        props.SessionExpiryInterval = int(opts["sei"])
    if "rpi" in opts:
        props.RequestProblemInformation = int(opts["rpi"])
    if "rri" in opts:
        props.RequestResponseInformation = int(opts["rri"])
    client.connect("127.0.0.1", PORT, keepalive=60, clean_start=opts.get("clean", "1") == "1", properties=props)


def run(client, words):
    command, args = words[0], words[1:]
    opts = options(a for a in args if "=" in a)
    plain = [a for a in args if "=" not in a]
    if command == "connect":
        connect(client, opts)
    elif command == "sub":
        sub = SubscribeOptions(
            qos=int(opts.get("qos", "0")),
            noLocal=opts.get("nl") == "1",
            retainAsPublished=opts.get("rap") == "1",
            retainHandling=int(opts.get("rh", "0")),
        )
        props = None
        if "sid" in opts:
            props = Properties(PacketTypes.SUBSCRIBE)
            props.SubscriptionIdentifier = int(opts["sid"])
        client.subscribe((plain[0], sub), properties=props)
    elif command == "pub":
        topic = "" if plain[0] == "-" else plain[0]
        payload = b"" if plain[1] == "-" else plain[1].encode()
        info = client.publish(
            topic, payload, qos=int(opts.get("qos", "0")), retain=opts.get("retain") == "1", properties=publish_props(opts)
        )
        client.user_data_get()["pub_mids"].add(info.mid)
    elif command == "sync":
        _, mid = client.subscribe(SYNC, qos=1)
        client.user_data_get()["sync_mids"].add(mid)
    elif command == "disconnect":
        props = None
        if "sei" in opts:
            props = Properties(PacketTypes.DISCONNECT)
            props.SessionExpiryInterval = int(opts["sei"])
        client.disconnect(ReasonCode(PacketTypes.DISCONNECT, identifier=int(opts.get("rc", "0"))), props)
    elif command == "quit":
        os._exit(0)
    else:
        emit("error", "unknown command", command)


def main():
    userdata = {"pub_mids": set(), "sync_mids": set()}
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=CID, protocol=mqtt.MQTTv5, userdata=userdata)
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_publish = on_publish
    client.on_message = on_message
    client.on_disconnect = on_disconnect
    commands = queue.Queue()

    def read_stdin():
        for line in sys.stdin:
            commands.put(line)
        commands.put("quit")

    threading.Thread(target=read_stdin, daemon=True).start()
    while True:
        if client.loop(timeout=0.01) != mqtt.MQTT_ERR_SUCCESS:
            time.sleep(0.01)
        try:
            line = commands.get_nowait()
        except queue.Empty:
            continue
        words = line.split()
        if words:
            try:
                run(client, words)
            except Exception as e:  # noqa: BLE001 - every failure becomes an event the test shows
                emit("error", type(e).__name__, str(e).replace("\n", " "))


main()
