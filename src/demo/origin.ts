/**
 * The demo origin that `npm start` puts behind the gateway: a page, and /echo which shows what the
 * origin received (so a newcomer sees the X-Forwarded-* headers the gateway added and the peer it saw).
 */
import http from 'node:http';

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Portcullis demo origin</title></head>
<body><h1>Hello from the demo origin</h1>
<p>This page was served by the demo origin on 127.0.0.1:8081. If you reached it on port 8080, it came
through the Portcullis gateway. Try <a href="/echo">/echo</a> to see what the origin received.</p>
</body></html>
`;

export interface EchoReply {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly peer: { readonly address: string; readonly port: number };
}

export function createDemoOrigin(): http.Server {
  return http.createServer((req, res) => {
    const path = req.url ?? '/';
    if (path === '/echo' || path.startsWith('/echo?') || path.startsWith('/echo/')) {
      const body: EchoReply = {
        method: req.method ?? '',
        path,
        headers: req.headers,
        peer: { address: req.socket.remoteAddress ?? '', port: req.socket.remotePort ?? 0 },
      };
      // Drain any request body so keep-alive continues; its content does not matter here.
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body, null, 2) + '\n');
      });
      return;
    }
    req.resume();
    if (path === '/' || path.startsWith('/?')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('not found on the demo origin\n');
  });
}

export function listenDemoOrigin(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
