/**
 * The ceiling the check-in figures are compared with: a bare grpc-js server with vigosrv's TLS material
 * and options (mTLS, client certificate required) whose CheckIn method neither parses nor verifies
 * anything and answers every request with the bytes vigosrv gave a no-change check-in. What vigosrv does
 * beyond this is the cost of the check-in itself.
 *
 *   node --import tsx bench/checkin/echo-server.ts <tls-dir> <reply as hex>
 * Prints one JSON line {"port": …, "responseBytes": …} once listening; stops on SIGTERM or SIGINT.
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VigoAgent, protocolLimits } from '../../protocol/index.ts';

const [tlsDir, replyHex] = process.argv.slice(2);
if (tlsDir === undefined || replyHex === undefined || !/^([0-9a-f]{2})+$/.test(replyHex)) {
  process.stderr.write('usage: node --import tsx bench/checkin/echo-server.ts <tls-dir> <reply as hex>\n');
  process.exit(2);
}
// The bytes vigosrv answered a current agent with in this run (captured by a load generator's probe).
const reply = Buffer.from(replyHex, 'hex');
const passThrough = (bytes: Buffer): Buffer => bytes;
const checkIn = VigoAgent.method.checkIn;
const definition: grpc.ServiceDefinition = {
  checkIn: {
    path: `/${VigoAgent.typeName}/${checkIn.name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: passThrough,
    requestDeserialize: passThrough,
    responseSerialize: passThrough,
    responseDeserialize: passThrough,
  },
};

// The same server options as server/grpc/server.ts, so the transports compared are configured alike.
const server = new grpc.Server({
  'grpc.max_receive_message_length': protocolLimits.messageMaxBytes,
  'grpc.max_send_message_length': protocolLimits.messageMaxBytes,
  'grpc.keepalive_time_ms': 120_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 30_000,
  // Nothing reads channelz, and its per-call bookkeeping is measurable at thousands of check-ins/s.
  'grpc.enable_channelz': 0,
});
server.addService(definition, {
  checkIn: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
    callback(null, reply),
});
const credentials = grpc.ServerCredentials.createSsl(
  readFileSync(join(tlsDir, 'ca.crt')),
  [
    {
      private_key: readFileSync(join(tlsDir, 'server.key')),
      cert_chain: readFileSync(join(tlsDir, 'server.crt')),
    },
  ],
  true,
);
server.bindAsync('127.0.0.1:0', credentials, (err, port) => {
  if (err) {
    process.stderr.write(`echo server cannot listen: ${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify({ port, responseBytes: reply.length })}\n`);
});
// The load generators keep their connections open, so a graceful shutdown would wait for them forever.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    server.forceShutdown();
    process.exit(0);
  });
}
