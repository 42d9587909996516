// SQL for URL groups (QStash topics, api.md §14) on PostgreSQL: one row per endpoint; a group
// exists while it has endpoints. Adds and removes are single statements, never a read then a write.
import type { UrlGroup, UrlGroupEndpoint } from '../../shared/qstash.js';
import type { PgCtx } from './context.js';

interface EndpointRow {
  group_name: string;
  url: string;
  name: string | null;
  created_at: number;
  updated_at: number;
}

function toGroups(rows: EndpointRow[]): UrlGroup[] {
  const out = new Map<string, UrlGroup>();
  for (const r of rows) {
    let g = out.get(r.group_name);
    if (!g) out.set(r.group_name, (g = { name: r.group_name, createdAt: r.created_at, updatedAt: r.updated_at, endpoints: [] }));
    g.createdAt = Math.min(g.createdAt, r.created_at);
    g.updatedAt = Math.max(g.updatedAt, r.updated_at);
    g.endpoints.push({ url: r.url, name: r.name });
  }
  return [...out.values()];
}

/** Upserts the endpoints and touches the group's other rows, in one statement. */
export async function addEndpoints(ctx: PgCtx, name: string, endpoints: UrlGroupEndpoint[], now: number): Promise<UrlGroup> {
  await ctx.db.query(
    `WITH e AS (SELECT DISTINCT ON (url) url, name FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS e(url, name, ord) ORDER BY url, ord DESC),
     up AS (
       INSERT INTO url_group_endpoints AS u (group_name, url, name, created_at, updated_at) SELECT $1, url, name, $4, $4 FROM e ORDER BY url
       ON CONFLICT (group_name, url) DO UPDATE SET name = COALESCE(excluded.name, u.name), updated_at = excluded.updated_at
     )
     UPDATE url_group_endpoints SET updated_at = $4 WHERE group_name = $1 AND url NOT IN (SELECT url FROM e)`,
    [name, endpoints.map((e) => e.url), endpoints.map((e) => e.name), now],
    'aq_add_endpoints',
  );
  return (await getUrlGroup(ctx, name))!;
}

export async function removeEndpoints(ctx: PgCtx, name: string, endpoints: { url?: string; name?: string }[], now: number): Promise<number> {
  const [r] = await ctx.db.query<{ n: number }>(
    `WITH gone AS (
       DELETE FROM url_group_endpoints u USING unnest($2::text[], $3::text[]) AS e(url, name)
       WHERE u.group_name = $1 AND (u.url = e.url OR u.name = e.name) RETURNING u.url
     ),
     touched AS (UPDATE url_group_endpoints SET updated_at = $4 WHERE group_name = $1 AND EXISTS (SELECT 1 FROM gone) AND url NOT IN (SELECT url FROM gone))
     SELECT count(DISTINCT url)::int AS n FROM gone`,
    [name, endpoints.map((e) => e.url ?? null), endpoints.map((e) => e.name ?? null), now],
    'aq_remove_endpoints',
  );
  return r?.n ?? 0;
}

export async function getUrlGroup(ctx: PgCtx, name: string): Promise<UrlGroup | undefined> {
  return toGroups(await ctx.db.query<EndpointRow>('SELECT * FROM url_group_endpoints WHERE group_name = $1 ORDER BY created_at, url', [name], 'aq_get_url_group'))[0];
}

export async function listUrlGroups(ctx: PgCtx): Promise<UrlGroup[]> {
  return toGroups(await ctx.db.query<EndpointRow>('SELECT * FROM url_group_endpoints ORDER BY group_name, created_at, url', [], 'aq_list_url_groups'));
}

export async function deleteUrlGroup(ctx: PgCtx, name: string): Promise<boolean> {
  return (await ctx.db.query('DELETE FROM url_group_endpoints WHERE group_name = $1 RETURNING 1', [name], 'aq_delete_url_group')).length > 0;
}
