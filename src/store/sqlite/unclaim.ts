// SQL that gives back claims whose request never started (api.md §12: the target's origin has an
// open circuit, a full limit or a Retry-After delay): the task is pending again at the given
// time and the claim's attempt is taken back, so no retry is spent; a webhook delivery is pending
// again with its delivery attempt and open history row taken back. Guarded like every finish.
import type { DeliveryUnclaim, TaskUnclaim } from '../store.js';
import type { Ctx } from './context.js';

export function unclaimTasks(ctx: Ctx, items: TaskUnclaim[], now: number): boolean[] {
  const s = ctx.stmt(`UPDATE tasks SET status = 'pending', attempts = attempts - 1, run_at = ?, updated_at = ?
    WHERE id = ? AND status = 'running' AND attempts = ? AND awaiting_since IS NULL RETURNING queue, attempts`);
  return items.map((u) => {
    const row = s.get(u.runAt, now, u.id, u.attempt) as { queue: string; attempts: number } | undefined;
    if (!row) return false;
    ctx.move(row.queue, 'running', 'pending');
    ctx.signalGivenBack(u.id, row.queue, row.attempts, now);
    return true;
  });
}

export function unclaimDeliveries(ctx: Ctx, items: DeliveryUnclaim[]): void {
  const task = ctx.stmt(`UPDATE tasks SET webhook_status = 'pending', webhook_attempts = webhook_attempts - 1, webhook_run_at = ?
    WHERE id = ? AND webhook_status = 'sending' AND outcomes = ? AND webhook_attempts = ?`);
  const history = ctx.stmt('DELETE FROM deliveries WHERE task_id = ? AND outcome = ? AND attempt = ? AND duration_ms IS NULL');
  for (const u of items) {
    if (task.run(u.runAt, u.id, u.outcome, u.attempt).changes > 0) history.run(u.id, u.outcome, u.attempt);
  }
}
