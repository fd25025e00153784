/**
 * The protected server of the sniff and NFQUEUE lab tests: answers every request after a short delay
 * (so that a reset injected by the sniffer reaches the client before the answer does).
 * Usage: lab-origin.ts ADDRESS DELAY_MS PORT [PORT…]; prints "ready" once listening.
 */
import http from 'node:http';

const [address = '0.0.0.0', delayText = '300', ...ports] = process.argv.slice(2);
const delay = Number(delayText);
let pending = ports.length;
for (const p of ports) {
  http.createServer((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => res.end(`ok ${req.url}\n`), delay));
  }).listen(Number(p), address, () => {
    if (--pending === 0) console.log('ready');
  });
}
