// `asyncqueue doctor`: what a user pastes into a bug report — this client's version and Node.js,
// and the server's `GET /v1/doctor` (database path, size, schema version, durability, task
// counts, the signing secret's fingerprint, effective limits). Prints no secret.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { Requester } from '../sdk/request.js';
import type { DoctorReport } from '../ops/doctor.js';
import { CliError, contextOf, describeError, printJson, withGlobals } from './context.js';
import { count } from './format.js';

function clientVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = -1;
  while (v >= 1024 && i < units.length - 1) (v /= 1024), i++;
  return `${v.toFixed(1)} ${units[i]}`;
}

/** Settings the report gives in ms and bytes (for scripts), shown as a person writes them. */
const MS_SETTINGS = new Set(['retention', 'shutdownGrace']);
const BYTE_SETTINGS = new Set(['maxBody', 'maxResult']);

/** The largest unit that states `ms` exactly: 7d, 90m, 30s, 1500ms. */
function exactDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** "retention=7d", "maxBody=1.0 MiB", "shutdownGrace=30s"; anything else as it is. */
export function settingText(key: string, value: string | number | boolean): string {
  if (typeof value === 'number' && MS_SETTINGS.has(key)) return `${key}=${exactDuration(value)}`;
  if (typeof value === 'number' && BYTE_SETTINGS.has(key)) return `${key}=${bytes(value)}`;
  return `${key}=${value}`;
}

/** The human lines of `aq doctor` for a server's report. */
export function doctorLines(url: string, r: DoctorReport): string[] {
  const tasks = Object.entries(r.tasks).map(([s, n]) => `${s} ${count(n)}`).join(', ');
  const secret = r.signingSecret ? `fingerprint ${r.signingSecret.fingerprint} (from ${r.signingSecret.source === 'config' ? '--signing-secret / AQ_SIGNING_SECRET' : 'the database'})` : 'unknown';
  const lines = [
    `server          ${url}`,
    `version         ${r.version} on Node.js ${r.node} (${r.platform}), up ${count(r.uptimeSeconds)} s`,
    `database        ${r.database.store === 'postgresql' ? 'PostgreSQL' : 'SQLite'} ${r.database.path}`,
    `  size          ${bytes(r.database.sizeBytes)}`,
    `  schema        version ${r.database.schemaVersion}`,
    `  durability    ${r.database.durability}`,
    `tasks           ${tasks}`,
    `queues          ${count(r.queues)}, ${count(r.inFlight)} attempts in flight`,
    `signing secret  ${secret}`,
    `auth            ${r.auth.tokens === 0 ? 'off (no token)' : `${r.auth.tokens} token(s) accepted`}`,
  ];
  const nodes = r.nodes ?? [];
  lines.push(`nodes           ${nodes.length === 0 ? 'unknown' : nodes.map((n) => `${n.name} (${n.id}${n.leader ? ', leader' : ''}${n.alive ? '' : ', dead'}, ${count(n.inFlight)} in flight)`).join('; ')}`);
  const settings = Object.entries(r.config);
  if (settings.length) lines.push(`settings        ${settings.map(([k, v]) => settingText(k, v)).join(' ')}`);
  return lines;
}

/** Registers `doctor` on the program. */
export function registerDoctor(program: Command): void {
  const cmd = program
    .command('doctor')
    .description("facts for a bug report: versions, the server's database, durability, task counts and signing secret fingerprint (never secrets)")
    .addHelpText('after', '\nExamples:\n  $ aq doctor\n  $ aq doctor --json > doctor.json');
  withGlobals(cmd).action(async (_flags: unknown, command: Command) => {
    const ctx = contextOf(command);
    const token = command.optsWithGlobals<{ token?: string }>().token || undefined;
    const client = { version: clientVersion(), node: process.version, platform: `${process.platform} ${process.arch}` };
    const requester = new Requester({ url: ctx.url, token, timeout: 10, retries: 0, fetch: globalThis.fetch });
    let report: DoctorReport;
    try {
      report = await requester.request<DoctorReport>({ method: 'GET', path: '/v1/doctor', retry: false });
    } catch (err) {
      // The client half still helps a bug report when the server cannot be reached.
      if (!ctx.json) ctx.out.line(`client          asyncqueue ${client.version} on Node.js ${client.node} (${client.platform})`);
      throw new CliError(describeError(err, ctx.url));
    }
    if (ctx.json) return printJson(ctx, { client, server: { url: ctx.url, ...report } });
    ctx.out.line(`client          asyncqueue ${client.version} on Node.js ${client.node} (${client.platform})`, ...doctorLines(ctx.url, report));
  });
}
