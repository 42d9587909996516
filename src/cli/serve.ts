// `asyncqueue serve`: every flag of api.md §6 (each also an AQ_* variable), the server loaded
// only here (dynamic import, so client commands never load SQLite), and graceful signals.
import type { Command } from 'commander';
import { ConfigError, DEFAULTS, isLoopbackHost, OPTIONS, resolveConfig, type Config } from '../config.js';
import { CliError } from './context.js';

const BOOLEAN_FLAGS = new Set<keyof Config>(['blockPrivateTargets', 'dev']);

function defaultText(key: keyof Config): string {
  const v = DEFAULTS[key];
  if (Array.isArray(v)) return v.length ? v.join(',') : 'none';
  if (v === null) return 'none';
  if (key === 'maxBody' || key === 'maxResult') return '1mb';
  if (key === 'retention') return '7d';
  if (key === 'shutdownGrace') return '30s';
  return String(v);
}


/** Registers `serve` on the program. */
export function registerServe(program: Command): void {
  const cmd = program.command('serve').description('run the AsyncQueue server (API, dispatcher and dashboard) in this process');
  for (const o of OPTIONS) {
    const help = `${o.help} (env ${o.env}; default ${defaultText(o.key)})`;
    if (BOOLEAN_FLAGS.has(o.key)) cmd.option(`--${o.flag}`, help);
    else cmd.option(`--${o.flag} <value>`, help);
  }
  cmd.addHelpText(
    'after',
    `
Examples:
  $ asyncqueue serve                                  # 127.0.0.1:8700, ./asyncqueue.db
  $ asyncqueue serve --host 0.0.0.0 --token "$TOKEN" --db /data/asyncqueue.db
  $ AQ_DURABILITY=normal asyncqueue serve --concurrency 200

SIGINT/SIGTERM stop taking new attempts, let in-flight ones finish within --shutdown-grace, and exit 0.`,
  );
  cmd.action(async (opts: Record<string, string | boolean | undefined>) => {
    const flags: Record<string, unknown> = {};
    for (const o of OPTIONS) {
      const camel = o.flag.replace(/-([a-z])/g, (_, ch: string) => ch.toUpperCase());
      if (opts[camel] !== undefined) flags[o.key] = opts[camel];
    }
    let config: Readonly<Config>;
    try {
      config = resolveConfig({ flags: flags as never, env: process.env });
    } catch (err) {
      if (err instanceof ConfigError) throw new CliError(err.message, 2);
      throw err;
    }
    const { createServer } = await import('../server.js');
    let server;
    try {
      server = await createServer({ ...(flags as object), env: process.env });
    } catch (err) {
      throw new CliError((err as Error).message, 1);
    }
    if (!isLoopbackHost(config.host) && config.tokens.length === 0) {
      process.stderr.write(
        `\n  WARNING: AsyncQueue is listening on ${config.host} without a token: anyone who can reach this port can read\n` +
          `  and create tasks, and make this server send HTTP requests. Start it with --token (or AQ_TOKEN).\n\n`,
      );
    }
    let signals = 0;
    const stop = (signal: string) => {
      if (++signals > 1) {
        process.stderr.write(`${signal} again: exiting now\n`);
        process.exit(1);
      }
      server.close().then(
        () => process.exit(0),
        (err) => {
          process.stderr.write(`error while stopping: ${(err as Error).message}\n`);
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    // Announced once the signal handlers are in place: whoever waits for this line may stop it at once.
    process.stderr.write(`AsyncQueue listening on ${server.url} (dashboard at ${server.url}/)\n`);
  });
}
