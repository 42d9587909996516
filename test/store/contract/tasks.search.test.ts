// Listing by schedule and by a payload field (a bounded scan of the newest PAYLOAD_SCAN_LIMIT
// tasks per page, continued by the cursor).
import { describe, expect, it } from 'vitest';
import { PAYLOAD_SCAN_LIMIT } from '../../../src/store/store.js';
import { newTask, openStore, T0 } from './stores.js';

describe('payload search', () => {
  it('finds tasks by a top-level or nested payload field, compared as text, with the other filters', async () => {
    const store = await openStore();
    const made = await store.createTasks([
      newTask({ payload: { jobId: 'a1', customer: { id: 7 } }, labels: ['report'] }),
      newTask({ payload: { jobId: 'b2', customer: { id: 8 } } }),
      newTask({ payload: { jobId: 'a1' }, queue: 'other' }),
      newTask({ payload: 'a1' }),
    ]);
    const ids = (f: object) => store.listTasks({ limit: 50, ...f }).then((p) => p.tasks.map((t) => t.id));
    expect(await ids({ payloadField: 'jobId', payloadValue: 'a1' })).toEqual([made[2]!.task.id, made[0]!.task.id]);
    expect(await ids({ payloadField: 'jobId', payloadValue: 'a1', queue: 'default' })).toEqual([made[0]!.task.id]);
    expect(await ids({ payloadField: 'jobId', payloadValue: 'a1', label: 'report' })).toEqual([made[0]!.task.id]);
    expect(await ids({ payloadField: 'customer.id', payloadValue: '8' })).toEqual([made[1]!.task.id]);
    expect(await ids({ payloadField: 'jobId', payloadValue: 'zz' })).toEqual([]);
  });

  it('pages through matches, and past a full scan window with a cursor that goes on with older tasks', async () => {
    const store = await openStore();
    const [old] = await store.createTasks([newTask({ payload: { jobId: 'needle' } })]);
    await store.createTasks(Array.from({ length: PAYLOAD_SCAN_LIMIT }, (_, i) => newTask({ payload: { jobId: `hay${i}` } }, T0 + 1)));
    const [fresh] = await store.createTasks([newTask({ payload: { jobId: 'needle' } }, T0 + 2)]);
    const first = await store.listTasks({ limit: 50, payloadField: 'jobId', payloadValue: 'needle' });
    expect(first.tasks.map((t) => t.id)).toEqual([fresh!.task.id]);
    expect(first.nextCursor).not.toBeNull(); // the window was full: older tasks are still to search
    const second = await store.listTasks({ limit: 50, payloadField: 'jobId', payloadValue: 'needle', cursor: first.nextCursor! });
    expect(second).toEqual({ tasks: [expect.objectContaining({ id: old!.task.id })], nextCursor: null });
    const one = await store.listTasks({ limit: 1, payloadField: 'jobId', payloadValue: 'hay5' });
    expect(one.tasks).toHaveLength(1);
  });
});

describe('listing by schedule', () => {
  it('lists the tasks a schedule created, newest first', async () => {
    const store = await openStore();
    const [a, , c] = await store.createTasks([{ ...newTask(), scheduleId: 'nightly' }, newTask(), { ...newTask({}, T0 + 1), scheduleId: 'nightly' }]);
    expect((await store.listTasks({ limit: 50, scheduleId: 'nightly' })).tasks.map((t) => t.id)).toEqual([c!.task.id, a!.task.id]);
  });
});
