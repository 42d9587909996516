// The SDK's batches (api.md §13): createMany answers the batch id, aq.batches.get / wait read it,
// and the CLI's `aq batch` shows it; against a real server and target.
import { describe, expect, it } from 'vitest';
import { AsyncQueue, AsyncQueueError } from '../../src/index.js';
import { startServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { taskInput } from '../helpers/tasks.js';
import { runCli } from '../cli/run-cli.js';

describe('batches in the SDK and the CLI', () => {
  it('createMany returns the batch ids; batches.wait answers once every task has ended; aq batch shows it', async () => {
    const server = await startServer();
    const target = await startTarget((req) => (req.json === 2 ? { status: 400, headers: { 'AQ-No-Retry': 'true' } } : { status: 200 }));
    const hook = await startTarget();
    const aq = new AsyncQueue({ url: server.url });
    const tasks = await aq.tasks.createMany([0, 1, 2, 3, 4].map((i) => taskInput(target.url, { payload: i })), { batchSize: 3, batch: { webhookUrl: hook.url, labels: ['sdk'] } });
    expect(tasks).toHaveLength(5);
    expect(tasks.batchIds).toHaveLength(2);
    expect(tasks.batchId).toBe(tasks.batchIds[0]);
    expect(tasks.map((t) => t.batchId)).toEqual([tasks.batchIds[0], tasks.batchIds[0], tasks.batchIds[0], tasks.batchIds[1], tasks.batchIds[1]]);
    const seen: number[] = [];
    const first = await aq.batches.wait(tasks.batchId!, { onUpdate: (b) => seen.push(b.counts.completed + b.counts.failed) });
    expect(first).toMatchObject({ total: 3, done: true, labels: ['sdk'], counts: { completed: 2, failed: 1 } });
    expect(seen.at(-1)).toBe(3);
    expect((await aq.batches.get(tasks.batchIds[1]!, { wait: 30 })).done).toBe(true);
    await expect(aq.batches.get('bat_missing')).rejects.toMatchObject({ code: 'not_found' });
    await expect(aq.batches.get(tasks.batchId!, { wait: 61 })).rejects.toBeInstanceOf(AsyncQueueError);

    const env = { AQ_URL: server.url };
    const shown = await runCli(['batch', tasks.batchId!], { env });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('3 of 3 ended');
    expect(shown.stdout).toMatch(/failed 1/);
    // --wait exits 1 unless every task completed; the second batch completed whole.
    const waitedFailed = await runCli(['batch', tasks.batchId!, '--wait', '--json'], { env });
    expect(waitedFailed.code).toBe(1);
    expect(JSON.parse(waitedFailed.stdout)).toMatchObject({ id: tasks.batchId, done: true });
    expect((await runCli(['batch', tasks.batchIds[1]!, '--wait', '5'], { env })).code).toBe(0);
    const missing = await runCli(['batch', 'bat_missing'], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('batch bat_missing not found');
  });
});
