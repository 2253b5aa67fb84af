// A WebSocket MQTT broker we did not write: aedes behind ws, on 127.0.0.1 and a free port.
// Prints "listening <port>" once it accepts connections; stops when stdin closes (the test ends).
// Usage: node aedes-ws.js [path]   (only upgrades to that path are served; default: any)
'use strict';
const { WebSocketServer, createWebSocketStream } = require('ws');
const { Aedes } = require('aedes');

async function main() {
  const path = process.argv[2];
  const broker = await Aedes.createBroker();
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    path,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
  });
  wss.on('connection', (socket) => broker.handle(createWebSocketStream(socket)));
  wss.on('listening', () => console.log(`listening ${wss.address().port}`));
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
