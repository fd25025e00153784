#!/usr/bin/env node
// server.mjs - the lab's test server. Answers every request with JSON describing the connection it saw,
// so tests can tell whether the gateway intercepted (and from which address it connected):
//   {"server":"http-80","sawPeer":"10.10.0.2:51234","sawLocal":"10.20.0.10:80","url":"/x","xff":null}
// Env: LAB_HTTP_PORTS (default 80,8080), LAB_TLS_PORTS (default 443), LAB_CERT_DIR (server.crt/.key),
//      LAB_BIND4 (default 0.0.0.0), LAB_BIND6 (default ::; empty = no IPv6).
// Prints "ready" once every listener is up.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';

const list = (v, d) => (v ?? d).split(',').filter(Boolean).map(Number);
const httpPorts = list(process.env.LAB_HTTP_PORTS, '80,8080');
const tlsPorts = list(process.env.LAB_TLS_PORTS, '443');
const certDir = process.env.LAB_CERT_DIR ?? '.';
const bind4 = process.env.LAB_BIND4 ?? '0.0.0.0';
const bind6 = process.env.LAB_BIND6 ?? '::';

const endpoint = (addr, port) => (addr?.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

function handler(tag) {
  return (req, res) => {
    const s = req.socket;
    const body = `${JSON.stringify({
      server: tag,
      sawPeer: endpoint(s.remoteAddress, s.remotePort),
      sawLocal: endpoint(s.localAddress, s.localPort),
      url: req.url,
      xff: req.headers['x-forwarded-for'] ?? null,
    })}\n`;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
}

const servers = [];
for (const port of httpPorts) servers.push([() => http.createServer({ keepAliveTimeout: 30_000 }, handler(`http-${port}`)), port]);
if (tlsPorts.length > 0) {
  const tlsOpts = { key: readFileSync(join(certDir, 'server.key')), cert: readFileSync(join(certDir, 'server.crt')), keepAliveTimeout: 30_000 };
  for (const port of tlsPorts) servers.push([() => https.createServer(tlsOpts, handler(`https-${port}`)), port]);
}

const listening = [];
for (const [make, port] of servers) {
  for (const host of [bind4, bind6].filter(Boolean)) {
    const srv = make();
    listening.push(
      new Promise((resolve, reject) => {
        srv.once('error', reject);
        srv.listen({ port, host, ipv6Only: host.includes(':') }, resolve);
      }),
    );
  }
}
await Promise.all(listening);
console.log('ready');
