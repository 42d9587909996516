// docs/ops.md stays true to the code: its configuration table names every flag and variable of
// config.ts OPTIONS, and its metrics table every asyncqueue_* family a server exposes.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPTIONS } from '../../src/config.js';
import { startServer } from '../helpers/server.js';
import { families } from './prom.js';

const doc = fs.readFileSync(path.resolve(import.meta.dirname, '../../docs/ops.md'), 'utf8');
const section = (title: string) => doc.slice(doc.indexOf(`## ${title}`), doc.indexOf('\n## ', doc.indexOf(`## ${title}`) + 3));

describe('docs/ops.md', () => {
  it('has the Install, Docker, Configuration, Operations and Troubleshooting sections', () => {
    for (const title of ['Install', 'Docker', 'Configuration', 'Operations', 'Troubleshooting']) expect(doc).toContain(`\n## ${title}\n`);
  });

  it('lists every serve flag with its AQ_* variable in the configuration table', () => {
    const rows = section('Configuration').split('\n').filter((l) => l.startsWith('| `--'));
    for (const o of OPTIONS) expect(rows.some((r) => r.startsWith(`| \`--${o.flag}\` | \`${o.env}\` |`)), `--${o.flag}`).toBe(true);
    expect(rows).toHaveLength(OPTIONS.length);
  });

  it('describes every asyncqueue_* metric a server exposes, and no other', async () => {
    const server = await startServer();
    const text = (await server.api('/metrics')).body as string;
    const names = [...families(text).keys()].filter((n) => n.startsWith('asyncqueue_'));
    expect(names.length).toBeGreaterThan(10);
    const metrics = section('Operations');
    for (const n of names) expect(metrics, n).toContain(`\`${n}\``);
    const documented = [...metrics.matchAll(/^\| `(asyncqueue_\w+)`/gm)].map((m) => m[1]!);
    expect(documented.filter((n) => !names.includes(n))).toEqual([]);
  });
});
