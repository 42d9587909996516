// SQL for import on PostgreSQL (api.md §15), in one transaction: tasks inserted with their own
// ids and states (counts follow by trigger), attempts kept; ids already stored are skipped, as
// is a task whose idempotency key another task holds.
import type { ImportItem } from '../../shared/transfer.js';
import type { PgCtx } from './context.js';
import type { Sql } from './pool.js';
import { insertTasks } from './tasks.js';
import { taskEvent } from '../signals.js';

const STATE = `UPDATE tasks SET status = $1, attempts = $2, updated_at = $3, completed_at = $4, result = $5, error = $6,
  webhook_status = $7, webhook_attempts = $8, webhook_run_at = $9, webhook_error = $10, outcomes = $11 WHERE id = $12`;
const ATTEMPTS = `INSERT INTO attempts (task_id, n, started_at, duration_ms, status, error)
  SELECT $1, * FROM unnest($2::int[], $3::bigint[], $4::bigint[], $5::int[], $6::text[]) ON CONFLICT DO NOTHING`;

export async function importTasks(ctx: PgCtx, items: ImportItem[], now: number): Promise<{ imported: number; skipped: number }> {
  const committed: (() => void)[] = [];
  const result = await ctx.db.tx(async (sql: Sql) => {
    const ids = items.map((i) => i.task.id);
    const present = new Set((await sql.query<{ id: string }>('SELECT id FROM tasks WHERE id = ANY($1::text[])', [ids])).map((r) => r.id));
    let imported = 0;
    let skipped = 0;
    for (const it of items) {
      if (present.has(it.task.id)) {
        skipped++;
        continue;
      }
      present.add(it.task.id);
      const [r] = await insertTasks(ctx, sql, [it.task], (fn) => committed.push(fn));
      if (!r!.created) {
        skipped++;
        continue;
      }
      const s = it.state;
      const w = s.webhook;
      await sql.query(STATE, [
        s.status, s.attempts, s.updatedAt, s.completedAt, s.resultJson, s.error ? JSON.stringify(s.error) : null,
        w ? w.status : null, w ? w.attempts : 0, w && w.status === 'pending' ? now : null, w?.error ? JSON.stringify(w.error) : null,
        s.status === 'completed' || s.status === 'failed' ? 1 : 0, it.task.id,
      ], 'aq_import_state');
      if (it.attempts.length > 0) {
        const a = it.attempts;
        await sql.query(ATTEMPTS, [
          it.task.id, a.map((x) => x.n), a.map((x) => x.startedAt), a.map((x) => x.durationMs), a.map((x) => x.status ?? null),
          a.map((x) => (x.error ? JSON.stringify(x.error) : null)),
        ], 'aq_import_attempts');
      }
      if (s.status !== 'pending') committed.push(() => ctx.signals.fire([taskEvent(it.task.id, it.task.queue, s.status, s.attempts, now)]));
      imported++;
    }
    return { imported, skipped };
  });
  for (const fn of committed) fn();
  return result;
}
