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

/** The human lines of `aq doctor` for a server's report. */
export function doctorLines(url: string, r: DoctorReport): string[] {
  const tasks = Object.entries(r.tasks).map(([s, n]) => `${s} ${count(n)}`).join(', ');
  const secret = r.signingSecret ? `fingerprint ${r.signingSecret.fingerprint} (from ${r.signingSecret.source === 'config' ? '--signing-secret / AQ_SIGNING_SECRET' : 'the database'})` : 'unknown';
  const lines = [
    `server          ${url}`,
    `version         ${r.version} on Node.js ${r.node} (${r.platform}), up ${count(r.uptimeSeconds)} s`,
    `database        ${r.database.path}`,
    `  size          ${bytes(r.database.sizeBytes)}`,
    `  schema        version ${r.database.schemaVersion}`,
    `  durability    ${r.database.durability}`,
    `tasks           ${tasks}`,
    `queues          ${count(r.queues)}, ${count(r.inFlight)} attempts in flight`,
    `signing secret  ${secret}`,
    `auth            ${r.auth.tokens === 0 ? 'off (no token)' : `${r.auth.tokens} token(s) accepted`}`,
  ];
  const settings = Object.entries(r.config);
  if (settings.length) lines.push(`settings        ${settings.map(([k, v]) => `${k}=${v}`).join(' ')}`);
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
