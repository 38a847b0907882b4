#!/usr/bin/env node
// Container health check (deploy/Containerfile's HEALTHCHECK): GET /readyz over HTTPS, verified against
// vigosrv's own CA, and exit 0 when the server answers 200 (serving, not draining, database answering),
// 1 otherwise with the reason on stderr. Plain JavaScript with no dependency, so it starts fast.
//
//   VIGO_HEALTHCHECK_URL  default https://127.0.0.1:8443/readyz (the server certificate names 127.0.0.1)
//   VIGO_HEALTHCHECK_CA   default /srv/vigo/tls/ca.crt
import { readFileSync } from 'node:fs';
import https from 'node:https';
import process from 'node:process';
import { URL } from 'node:url';

const timeoutMs = 4000;

function unhealthy(reason) {
  process.stderr.write(`vigosrv health check: ${reason}\n`);
  process.exit(1);
}

let url;
let ca;
try {
  url = new URL(process.env.VIGO_HEALTHCHECK_URL || 'https://127.0.0.1:8443/readyz');
  if (url.protocol !== 'https:') unhealthy(`${url.href} is not an https URL`);
  ca = readFileSync(process.env.VIGO_HEALTHCHECK_CA || '/srv/vigo/tls/ca.crt');
} catch (err) {
  unhealthy(err instanceof Error ? err.message : String(err));
}

const request = https.get(url, { ca, timeout: timeoutMs }, (response) => {
  let body = '';
  response.setEncoding('utf8');
  response.on('data', (chunk) => {
    if (body.length < 1024) body += chunk;
  });
  response.on('end', () => {
    if (response.statusCode === 200) process.exit(0);
    unhealthy(`${url.href} answered ${response.statusCode}: ${body.slice(0, 200)}`);
  });
});
request.on('timeout', () => request.destroy(new Error(`no answer from ${url.href} within ${timeoutMs} ms`)));
request.on('error', (err) => unhealthy(err.message));
