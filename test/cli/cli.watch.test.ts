// `aq watch` against a real server: NDJSON events with --json, one line per event when
// stdout is not a TTY, Ctrl-C (SIGINT) exits 0.
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AsyncQueue, type TaskEvent } from '../../src/index.js';
import { startServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { taskInput } from '../helpers/tasks.js';
import { spawnCli, waitForLine } from './run-cli.js';

/** Resolves once the child has written `text` to stderr. */
function stderrSays(child: ReturnType<typeof spawnCli>, text: string): Promise<void> {
  return new Promise((resolve) => {
    let seen = '';
    child.stderr.on('data', (c: Buffer) => {
      seen += c.toString('utf8');
      if (seen.includes(text)) resolve();
    });
  });
}

async function setup() {
  const server = await startServer();
  const target = await startTarget();
  const aq = new AsyncQueue({ url: server.url });
  return { server, target, aq };
}

describe('aq watch', () => {
  it('prints task events as NDJSON with --json and exits 0 on Ctrl-C', async () => {
    const { server, target, aq } = await setup();
    const child = spawnCli(['watch', '--json'], { env: { AQ_URL: server.url } });
    await stderrSays(child, `watching ${server.url}`);
    const task = await aq.tasks.create(taskInput(target.url));
    const lines = await waitForLine(child, (l) => l.includes(task.id) && l.includes('"completed"'));
    const events = lines.map((l) => JSON.parse(l) as TaskEvent).filter((e) => e.id === task.id);
    expect(events.map((e) => e.status)).toEqual(['pending', 'running', 'completed']);
    expect(Object.keys(events[2]!).sort()).toEqual(['at', 'attempts', 'id', 'queue', 'status']);
    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('prints one plain line per event when stdout is not a terminal, only for --queue', async () => {
    const { server, target, aq } = await setup();
    const child = spawnCli(['watch', '--queue', 'emails'], { env: { AQ_URL: server.url } });
    await stderrSays(child, `watching ${server.url} queue emails`);
    await aq.tasks.create(taskInput(target.url, { queue: 'other' }), { wait: 15 });
    const task = await aq.tasks.create(taskInput(target.url, { queue: 'emails' }));
    const lines = await waitForLine(child, (l) => l.includes(task.id) && l.includes('completed'));
    expect(lines.every((l) => l.includes(task.id))).toBe(true);
    expect(lines.at(-1)).toMatch(new RegExp(`^\\S+Z  ${task.id}  completed  queue emails  attempts 1$`));
    expect(lines.join('\n')).not.toContain('\x1b[');
    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });
});
