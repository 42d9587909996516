// SQL for URL groups (QStash topics, api.md §14): one row per endpoint; a group exists while it
// has endpoints. Adds and removes are single guarded statements, never a read then a write.
import type { UrlGroup, UrlGroupEndpoint } from '../../shared/qstash.js';
import type { Ctx } from './context.js';

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

export function addEndpoints(ctx: Ctx, name: string, endpoints: UrlGroupEndpoint[], now: number): UrlGroup {
  const s = ctx.stmt(`INSERT INTO url_group_endpoints (group_name, url, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (group_name, url) DO UPDATE SET name = COALESCE(excluded.name, name), updated_at = excluded.updated_at`);
  for (const e of endpoints) s.run(name, e.url, e.name, now, now);
  ctx.stmt('UPDATE url_group_endpoints SET updated_at = ? WHERE group_name = ?').run(now, name);
  return getUrlGroup(ctx, name)!;
}

export function removeEndpoints(ctx: Ctx, name: string, endpoints: { url?: string; name?: string }[], now: number): number {
  const s = ctx.stmt('DELETE FROM url_group_endpoints WHERE group_name = ? AND (url = ? OR name = ?)');
  let n = 0;
  for (const e of endpoints) n += s.run(name, e.url ?? null, e.name ?? null).changes;
  if (n > 0) ctx.stmt('UPDATE url_group_endpoints SET updated_at = ? WHERE group_name = ?').run(now, name);
  return n;
}

export function getUrlGroup(ctx: Ctx, name: string): UrlGroup | undefined {
  return toGroups(ctx.stmt('SELECT * FROM url_group_endpoints WHERE group_name = ? ORDER BY created_at, url').all(name) as EndpointRow[])[0];
}

export function listUrlGroups(ctx: Ctx): UrlGroup[] {
  return toGroups(ctx.stmt('SELECT * FROM url_group_endpoints ORDER BY group_name, created_at, url').all() as EndpointRow[]);
}

export function deleteUrlGroup(ctx: Ctx, name: string): boolean {
  return ctx.stmt('DELETE FROM url_group_endpoints WHERE group_name = ?').run(name).changes > 0;
}
