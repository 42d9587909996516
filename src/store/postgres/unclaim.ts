// SQL that gives back claims whose request never started, on PostgreSQL (see sqlite/unclaim.ts):
// guarded by status, attempt and this node as owner, one statement per batch.
import { givenBackEvent } from '../signals.js';
import type { DeliveryUnclaim, TaskUnclaim } from '../store.js';
import type { PgCtx } from './context.js';

export async function unclaimTasks(ctx: PgCtx, items: TaskUnclaim[], now: number): Promise<boolean[]> {
  if (items.length === 0) return [];
  // The claim took a token of a rate-limited queue's bucket (claimLimited); a request that never
  // started gives it back, up to the bucket's capacity (token-bucket.ts: rate / 10, at least 1).
  const rows = await ctx.book.query<{ id: string; queue: string; attempts: number }>(
    `WITH u AS (SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[]) AS u(id, attempt, run_at)),
     back AS (
       UPDATE tasks t SET status = 'pending', attempts = t.attempts - 1, run_at = u.run_at, updated_at = $4, claimed_by = NULL, claim_token = NULL
       FROM u WHERE t.id = u.id AND t.status = 'running' AND t.attempts = u.attempt AND t.claimed_by = $5 AND t.awaiting_since IS NULL
       RETURNING t.id, t.queue, t.attempts
     ),
     refund AS (
       UPDATE queues q SET tokens = LEAST(GREATEST(1, q.rate_per_second / 10.0), q.tokens + b.n)
       FROM (SELECT queue, count(*) AS n FROM back GROUP BY queue) b
       WHERE q.name = b.queue AND q.rate_per_second IS NOT NULL AND q.tokens IS NOT NULL
     )
     SELECT id, queue, attempts FROM back`,
    [items.map((u) => u.id), items.map((u) => u.attempt), items.map((u) => u.runAt), now, ctx.nodeId],
    'aq_unclaim_tasks',
  );
  ctx.signals.fire(rows.map((r) => givenBackEvent(r.id, r.queue, r.attempts, now)));
  const done = new Set(rows.map((r) => r.id));
  return items.map((u) => done.has(u.id));
}

export async function unclaimDeliveries(ctx: PgCtx, items: DeliveryUnclaim[]): Promise<void> {
  if (items.length === 0) return;
  await ctx.book.query(
    `WITH u AS (SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::bigint[]) AS u(id, outcome, attempt, run_at)),
     back AS (
       UPDATE tasks t SET webhook_status = 'pending', webhook_attempts = t.webhook_attempts - 1, webhook_run_at = u.run_at,
         webhook_claimed_by = NULL, webhook_claim_token = NULL
       FROM u WHERE t.id = u.id AND t.webhook_status = 'sending' AND t.outcomes = u.outcome AND t.webhook_attempts = u.attempt
         AND t.webhook_claimed_by = $5
       RETURNING t.id, u.outcome, u.attempt
     )
     DELETE FROM deliveries d USING back b WHERE d.task_id = b.id AND d.outcome = b.outcome AND d.attempt = b.attempt AND d.duration_ms IS NULL`,
    [items.map((u) => u.id), items.map((u) => u.outcome), items.map((u) => u.attempt), items.map((u) => u.runAt), ctx.nodeId],
    'aq_unclaim_deliveries',
  );
}
