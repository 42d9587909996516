// SQL for upkeep on PostgreSQL: retention purge in small batches, settings (with a race-free
// first write), and facts about the database.
import type { PgCtx } from './context.js';

/** Deletes up to `limit` terminal tasks finished before `before` (ms) whose webhook is settled, with their attempts, deliveries and labels. */
export async function purgeExpired(ctx: PgCtx, before: number, limit: number): Promise<number> {
  const [r] = await ctx.db.query<{ n: number }>(
    `WITH doomed AS (
       SELECT seq, id FROM tasks WHERE completed_at < $1
         AND (webhook_status IS NULL OR webhook_status IN ('delivered', 'failed'))
       ORDER BY completed_at LIMIT $2 FOR UPDATE SKIP LOCKED
     ),
     gone AS (DELETE FROM tasks t USING doomed d WHERE t.seq = d.seq RETURNING t.seq),
     a AS (DELETE FROM attempts x USING doomed d WHERE x.task_id = d.id),
     w AS (DELETE FROM deliveries x USING doomed d WHERE x.task_id = d.id),
     l AS (DELETE FROM task_labels x USING doomed d WHERE x.seq = d.seq),
     m AS (DELETE FROM minute_stats WHERE minute < $3 AND EXISTS (SELECT 1 FROM doomed))
     SELECT count(*)::int AS n FROM gone`,
    [before, limit, Math.floor(before / 60000) - 60],
    'aq_purge',
  );
  // A batch whose every task has been purged goes too, once its webhook is settled (api.md §13).
  if ((r?.n ?? 0) > 0) {
    await ctx.db.query(
      `WITH b AS (DELETE FROM batches WHERE total = 0 AND done_at < $1 AND (webhook_status IS NULL OR webhook_status IN ('delivered', 'failed')) RETURNING id)
       DELETE FROM deliveries x USING b WHERE x.task_id = b.id`,
      [before],
      'aq_purge_batches',
    );
  }
  return r?.n ?? 0;
}

export async function getSetting(ctx: PgCtx, key: string): Promise<string | undefined> {
  const [r] = await ctx.db.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key], 'aq_get_setting');
  return r?.value;
}

export async function setSetting(ctx: PgCtx, key: string, value: string): Promise<void> {
  await ctx.db.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value], 'aq_set_setting');
}

/**
 * Stores `value` under `key` unless a value is there already, and returns the stored one: every
 * node starting at once ends up with the same (the first committed wins; the others read it).
 */
export async function initSetting(ctx: PgCtx, key: string, value: string): Promise<string> {
  await ctx.db.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, value], 'aq_init_setting');
  const stored = await getSetting(ctx, key);
  return stored ?? value;
}

/** Records that session `id` ended (logout) until `expiresAt` (ms); drops records already past `now`. */
export async function revokeSession(ctx: PgCtx, id: string, expiresAt: number, now: number): Promise<void> {
  await ctx.db.query(
    `WITH old AS (DELETE FROM revoked_sessions WHERE expires_at <= $3)
     INSERT INTO revoked_sessions (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`,
    [id, expiresAt, now],
    'aq_revoke_session',
  );
}

export async function isSessionRevoked(ctx: PgCtx, id: string): Promise<boolean> {
  const rows = await ctx.db.query('SELECT 1 FROM revoked_sessions WHERE id = $1', [id], 'aq_session_revoked');
  return rows.length > 0;
}
