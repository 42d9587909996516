// The trivial target: node:http, answers 200 {"ok":true} at once and counts
// arrivals by the `seq` in the JSON body (distinct per run; duplicates flagged).
// Arrival times use the shared monotonic clock (common.mjs).
// Control routes: POST /_reset {run, n}, GET /_stats, GET /_arrivals.
//   PORT=0 node bench/lib/target.mjs   → prints {"listening": port}
import http from 'node:http';
import { now } from './common.mjs';

let run = null;
let count = 0, firstAt = null, lastAt = null, dup = 0, foreign = 0, bad = 0;
let seen = new Uint8Array(1024);
let arrivals = []; // [seq, arrivalMs] for payloads with track: true
const OK = Buffer.from('{"ok":true}');
const OK_HEADERS = { 'content-type': 'application/json', 'content-length': OK.length };

function json(res, code, obj) {
  const b = JSON.stringify(obj);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b) });
  res.end(b);
}

function readBody(req, cb) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => cb(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
}

function arrive(t, body) {
  let p;
  try { p = JSON.parse(body.toString('utf8')); } catch { bad++; return; }
  if (!p || p.run !== run || !Number.isInteger(p.seq) || p.seq < 0) { foreign++; return; }
  const seq = p.seq;
  if (seq >= seen.length) { const n = new Uint8Array(Math.max(seq + 1, seen.length * 2)); n.set(seen); seen = n; }
  if (seen[seq]) { dup++; return; }
  seen[seq] = 1;
  count++;
  if (firstAt === null) firstAt = t;
  lastAt = t;
  if (p.track) arrivals.push([seq, t]);
}

const server = http.createServer((req, res) => {
  const t = now();
  if (req.url === '/hook') {
    readBody(req, (body) => { res.writeHead(200, OK_HEADERS); res.end(OK); arrive(t, body); });
    return;
  }
  if (req.url === '/_stats') return json(res, 200, { run, count, firstAt, lastAt, dup, foreign, bad });
  if (req.url === '/_arrivals') return json(res, 200, { run, arrivals });
  if (req.url === '/_reset' && req.method === 'POST') {
    readBody(req, (body) => {
      const b = JSON.parse(body.toString() || '{}');
      run = b.run ?? null; count = 0; firstAt = lastAt = null; dup = foreign = bad = 0;
      seen = new Uint8Array((b.n || 1024) + 1); arrivals = [];
      json(res, 200, { ok: true, run });
    });
    return;
  }
  json(res, 404, { error: 'not_found' });
});
server.keepAliveTimeout = 60000;
server.headersTimeout = 65000;
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ listening: server.address().port }) + '\n');
});
process.on('SIGTERM', () => { server.close(() => process.exit(0)); server.closeAllConnections?.(); });
