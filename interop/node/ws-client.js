// MQTT.js (a WebSocket MQTT client no one here wrote) run through one scenario against a broker,
// printing one JSON line per thing it saw, so the Rust test judges the broker by what a real
// client received. Every wait is bounded: the whole run gives up after TIMEOUT_MS and says so.
//
// Usage: node ws-client.js URL VERSION [CA_FILE | psk:IDENTITY:HEXKEY]
//   URL      ws://127.0.0.1:PORT/mqtt or wss://127.0.0.1:PORT/mqtt
//   VERSION  3 (MQTT 3.1, subprotocol mqttv3.1), 4 (3.1.1) or 5
//   CA_FILE  PEM of the CA that signed a wss:// server's certificate
//   psk:...  wss:// over TLS-PSK instead (TLS 1.2, as node supports PSK there only)
//
// Scenario, under the topic prefix lab/:
//   "sub" subscribes to lab/# at QoS 2; "pub" publishes lab/q0, lab/q1, lab/q2 at QoS 0, 1, 2, a
//   70000-byte payload on lab/big (a frame with a 64-bit length), and a retained lab/retained;
//   "late" subscribes to lab/retained afterwards and must get the retained copy; a child process
//   connects with a will on lab/will and is killed with SIGKILL (its socket dropped, no
//   DISCONNECT), and "sub" must get the will.
// Lines: {"event":"connack","client":..} {"event":"suback","client":..,"granted":[..]}
//        {"event":"msg","client":..,"topic":..,"payload":..,"len":N,"qos":N,"retain":bool}
//        {"event":"done"} or {"event":"error","text":..}
'use strict';
const fs = require('fs');
const { spawn } = require('child_process');
const mqtt = require('mqtt');

const TIMEOUT_MS = 20000;
const [, script, url, versionArg, caFile, role] = process.argv;
const version = Number(versionArg);

function emit(event) {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function options(clientId, extra) {
  const opts = {
    clientId,
    protocolVersion: version,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: TIMEOUT_MS,
    ...extra,
  };
  if (version === 3) {
    opts.protocolId = 'MQIsdp';
  }
  if (caFile && caFile.startsWith('psk:')) {
    const [, identity, key] = caFile.split(':');
    opts.wsOptions = {
      pskCallback: () => ({ identity, psk: Buffer.from(key, 'hex') }),
      ciphers: 'PSK',
      maxVersion: 'TLSv1.2',
      // No certificate: the key authenticates the server.
      checkServerIdentity: () => undefined,
    };
  } else if (caFile) {
    opts.ca = fs.readFileSync(caFile);
  }
  return opts;
}

// Resolves once CONNACK accepts; rejects, naming why, when the connection fails or closes first.
function connect(clientId, extra = {}) {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, options(clientId, extra));
    const fail = (why) => {
      client.end(true);
      reject(new Error(`${clientId}: ${why}`));
    };
    client.once('error', (e) => fail(e.message));
    client.once('close', () => fail('connection closed before CONNACK'));
    client.once('connect', () => {
      client.removeAllListeners('error').removeAllListeners('close');
      client.on('error', (e) => {
        emit({ event: 'error', text: `${clientId}: ${e.message}` });
        process.exit(1);
      });
      emit({ event: 'connack', client: clientId });
      resolve(client);
    });
  });
}

// Resolves with the messages `client` receives once `count` of them have arrived.
function collect(client, clientId, count) {
  const got = [];
  return new Promise((resolve) => {
    client.on('message', (topic, payload, packet) => {
      const text = payload.length > 64 ? `${payload.subarray(0, 16).toString()}...` : payload.toString();
      const event = { event: 'msg', client: clientId, topic, payload: text, len: payload.length, qos: packet.qos, retain: packet.retain };
      emit(event);
      got.push(event);
      if (got.length === count) {
        resolve(got);
      }
    });
  });
}

async function subscribe(client, clientId, filter, qos) {
  const granted = await client.subscribeAsync(filter, { qos });
  emit({ event: 'suback', client: clientId, granted: granted.map((g) => g.qos) });
}

// The child: connects with a will, says so, and waits to be killed.
async function willClient() {
  await connect('dying', { will: { topic: 'lab/will', payload: Buffer.from('gone'), qos: 1, retain: false } });
  emit({ event: 'ready' });
  await new Promise(() => {}); // the open socket keeps the process alive until it is killed
}

// Starts the will client and kills it once it is connected.
function killWillClient() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, url, versionArg, caFile || '', 'will'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('"ready"')) {
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`will client exited ${code}: ${out}`))));
  });
}

async function scenario() {
  const sub = await connect('sub');
  const messages = collect(sub, 'sub', 6);
  await subscribe(sub, 'sub', 'lab/#', 2);
  const pub = await connect('pub');
  await pub.publishAsync('lab/q0', 'zero', { qos: 0 });
  await pub.publishAsync('lab/q1', 'one', { qos: 1 });
  await pub.publishAsync('lab/q2', 'two', { qos: 2 });
  await pub.publishAsync('lab/big', Buffer.alloc(70000, 'b'), { qos: 1 });
  await pub.publishAsync('lab/retained', 'kept', { qos: 1, retain: true });
  const late = await connect('late');
  const retained = collect(late, 'late', 1);
  await subscribe(late, 'late', 'lab/retained', 1);
  await retained;
  await killWillClient();
  await messages;
  await Promise.all([sub.endAsync(), pub.endAsync(), late.endAsync()]);
  emit({ event: 'done' });
}

setTimeout(() => {
  emit({ event: 'error', text: `timed out after ${TIMEOUT_MS} ms` });
  process.exit(2);
}, TIMEOUT_MS);

(role === 'will' ? willClient() : scenario()).then(
  () => process.exit(0),
  (e) => {
    emit({ event: 'error', text: String(e && e.message ? e.message : e) });
    process.exit(1);
  },
);
