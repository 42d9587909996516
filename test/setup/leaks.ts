// Setup file run in every test file: after the file's tests (and their onTestFinished cleanups),
// no server, socket, timer or child process the tests started may be left. Compares Node's
// list of live resources with the one taken before the file ran, after letting pending closes
// finish; what the test runner itself holds (its IPC pipe) is in the baseline.
import { afterAll } from 'vitest';

/** The kinds a test can leave behind: listening servers, sockets, child processes, timers. */
const WATCHED = new Set(['TCPServerWrap', 'TCPSocketWrap', 'TCPWRAP', 'ProcessWrap', 'PROCESSWRAP', 'Timeout', 'PipeServerWrap', 'UDPWrap']);

function live(): Map<string, number> {
  const n = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) if (WATCHED.has(r)) n.set(r, (n.get(r) ?? 0) + 1);
  return n;
}

const baseline = live();

afterAll(async () => {
  // Closes already asked for (a socket's FIN, a child's exit) complete within a few loop turns.
  let left: string[] = [];
  // Bounded (5 s) only so a real leak fails the file instead of hanging it; a clean file returns at once.
  for (let turn = 0; turn < 500; turn++) {
    left = [];
    for (const [kind, n] of live()) if (n > (baseline.get(kind) ?? 0)) left.push(`${n - (baseline.get(kind) ?? 0)} × ${kind}`);
    if (left.length === 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`this file left resources open after its tests: ${left.join(', ')}`);
});
