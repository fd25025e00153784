#!/usr/bin/env node
// The benchmark origin: answers GET (and HEAD) with a small fixed HTML page and POST (any other
// method) with a short reply once the whole request body has been read. Keep-alive, no logging,
// nothing computed per request, so the origin costs as little CPU as node:http allows: on a 2-core
// machine the origin, the proxy under test and wrk all share the same cores.
//
// bench/proxy-bench.ts can also use nginx as the origin (`--origin nginx`, a fixed `return 200`); it
// records which origin it used. Usage: node bench/origin.mjs [--port N] [--host 127.0.0.1]
// Prints "origin listening PORT" on stdout once it accepts connections.
import http from 'node:http';

export const ORIGIN_PAGE = Buffer.from(
  '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Shop: search results</title>\n' +
    '<link rel="stylesheet" href="/static/site.css"></head>\n<body><header><a href="/">Shop</a></header>\n' +
    '<main><h1>Search results</h1><ul class="results">\n' +
    Array.from({ length: 8 }, (_, i) => `<li><a href="/p/${1000 + i}">Running shoe model ${i + 1}</a> <span>EUR ${59 + i * 5}.00</span></li>\n`).join('') +
    '</ul></main><footer>Portcullis benchmark origin</footer></body></html>\n',
);
export const ORIGIN_POST_REPLY = Buffer.from('{"status":"ok"}\n');

function parseArgs(argv) {
  const o = { port: 0, host: '127.0.0.1' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--port' && v !== undefined) { o.port = Number(v); i++; }
    else if (a === '--host' && v !== undefined) { o.host = v; i++; }
    else { console.error(`origin: unknown argument ${a}\nusage: node bench/origin.mjs [--port N] [--host ADDR]`); process.exit(2); }
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) { console.error('origin: --port must be 0..65535'); process.exit(2); }
  return o;
}

const pageHeaders = { 'content-type': 'text/html; charset=utf-8', 'content-length': String(ORIGIN_PAGE.length) };
const postHeaders = { 'content-type': 'application/json', 'content-length': String(ORIGIN_POST_REPLY.length) };

export function createOrigin() {
  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    if (req.method === 'GET' || req.method === 'HEAD') {
      req.resume();
      res.writeHead(200, pageHeaders);
      res.end(req.method === 'HEAD' ? undefined : ORIGIN_PAGE);
      return;
    }
    // Read the body to the end before answering, as an application would.
    req.on('data', () => {});
    req.on('end', () => {
      res.writeHead(200, postHeaders);
      res.end(ORIGIN_POST_REPLY);
    });
  });
  // wrk opens 64 connections at once; the default backlog is fine, but headers from a proxy may be large.
  server.maxHeadersCount = 0;
  return server;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { port, host } = parseArgs(process.argv.slice(2));
  const server = createOrigin();
  server.listen(port, host, () => {
    const addr = server.address();
    process.stdout.write(`origin listening ${typeof addr === 'object' && addr ? addr.port : port}\n`);
  });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)).closeAllConnections());
}
