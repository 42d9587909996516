// `asyncqueue backup <file>`, `export` and `import <file | ->` (api.md §15): they talk to the
// server at --url like every other command. Import streams its input and sends whole batches;
// a malformed line stops it with its line number, nothing from that line's batch sent.
import { createReadStream, createWriteStream, statSync, renameSync, rmSync, openSync, readSync, closeSync, existsSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { MAX_IMPORT_BATCH, type ExportLine } from '../shared/transfer.js';
import { TASK_STATUSES, type TaskStatus } from '../shared/types.js';
import { AsyncQueueError } from '../sdk/errors.js';
import { CliError, contextOf, describeError, printJson, withGlobals, type Context } from './context.js';
import { count, duration } from './format.js';
import { ProgressBar } from './progress.js';

/** Bytes of JSON lines sent per import call at most (well under the default --max-body of 1 MiB). */
const BATCH_BYTES = 512 * 1024;
const SQLITE_MAGIC = 'SQLite format 3\0';

/** Why one parsed line cannot be an exported task, or undefined when it can. */
export function checkExportLine(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'expected a JSON object {"task", "attempts"}';
  const v = value as { task?: unknown; attempts?: unknown };
  if (v.task === null || typeof v.task !== 'object' || Array.isArray(v.task)) return 'missing "task" (an exported task object)';
  if (typeof (v.task as { id?: unknown }).id !== 'string') return 'missing "task.id"';
  if (!Array.isArray(v.attempts)) return 'missing "attempts" (an array)';
  return undefined;
}

async function backup(ctx: Context, file: string, force: boolean): Promise<void> {
  if (existsSync(file) && !force) throw new CliError(`${file} exists; pass --force to replace it`);
  const partial = `${file}.partial-${process.pid}`;
  const started = Date.now();
  try {
    const body = await ctx.aq.transfer.backup();
    await pipeline(Readable.fromWeb(body as never), createWriteStream(partial, { flags: 'wx' }));
    const fd = openSync(partial, 'r');
    const head = Buffer.alloc(16);
    readSync(fd, head, 0, 16, 0);
    closeSync(fd);
    if (head.toString('latin1') !== SQLITE_MAGIC) throw new CliError('the server did not send a SQLite database');
    renameSync(partial, file);
  } catch (err) {
    rmSync(partial, { force: true });
    if (err instanceof AsyncQueueError && err.status === 501) throw new CliError(`${err.message}: for PostgreSQL use pg_dump, or asyncqueue export`);
    throw err;
  }
  const bytes = statSync(file).size;
  if (ctx.json) printJson(ctx, { file, bytes });
  else ctx.out.line(`backup written to ${file} (${count(bytes)} bytes in ${duration(Date.now() - started)})`);
}

async function exportTasks(ctx: Context, filter: { status?: TaskStatus; queue?: string }): Promise<void> {
  const bar = new ProgressBar(ctx.out.stderr, 'tasks');
  let n = 0;
  for await (const line of ctx.aq.transfer.exportText(filter)) {
    if (!ctx.out.stdout.write(line + '\n')) await once(ctx.out.stdout, 'drain');
    bar.update(++n, n);
  }
  bar.clear();
}

async function importTasks(ctx: Context, file: string): Promise<void> {
  let total: number | undefined;
  if (file !== '-') {
    try {
      total = statSync(file).size;
    } catch (err) {
      throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const lines = createInterface({ input: file === '-' ? process.stdin : createReadStream(file), crlfDelay: Infinity });
  const bar = new ProgressBar(ctx.out.stderr, 'tasks', total);
  const started = Date.now();
  let imported = 0;
  let skipped = 0;
  let batch: ExportLine[] = [];
  let lineNos: number[] = [];
  let batchBytes = 0;
  let lineNo = 0;
  let bytes = 0;
  const fail = (line: number | undefined, message: string): never => {
    bar.clear();
    const before = lineNos[0] ?? line ?? lineNo;
    const kept = imported + skipped > 0 ? `${count(imported)} tasks before line ${before} were imported (${count(skipped)} already there); nothing from that line's batch on` : 'nothing was imported';
    throw new CliError(`${line ? `line ${line}: ` : ''}${message} — ${kept}`);
  };
  const send = async () => {
    if (batch.length === 0) return;
    try {
      const r = await ctx.aq.transfer.import(batch);
      imported += r.imported;
      skipped += r.skipped;
    } catch (err) {
      // The server names fields as items.<index>.…; the index says which line.
      const first = err instanceof AsyncQueueError ? (err.details?.[0] as { path?: unknown[] } | undefined) : undefined;
      const index = Array.isArray(first?.path) && first.path[0] === 'items' && typeof first.path[1] === 'number' ? first.path[1] : undefined;
      fail(index === undefined ? undefined : lineNos[index], describeError(err, ctx.url).replace(/items\.\d+\.?/g, ''));
    }
    batch = [];
    lineNos = [];
    batchBytes = 0;
    bar.update(imported + skipped, bytes);
  };
  try {
    for await (const text of lines) {
      lineNo++;
      const size = Buffer.byteLength(text) + 1;
      bytes += size;
      if (text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        return fail(lineNo, `not valid JSON (${(err as Error).message})`);
      }
      const problem = checkExportLine(value);
      if (problem) return fail(lineNo, problem);
      if (batch.length > 0 && batchBytes + size > BATCH_BYTES) await send();
      batch.push(value as ExportLine);
      lineNos.push(lineNo);
      batchBytes += size;
      if (batch.length === MAX_IMPORT_BATCH) await send();
    }
  } catch (err) {
    if (err instanceof CliError) throw err;
    return fail(undefined, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  await send();
  bar.clear();
  const ms = Date.now() - started;
  if (ctx.json) printJson(ctx, { imported, skipped, lines: lineNo });
  else ctx.out.line(`imported ${count(imported)} tasks, skipped ${count(skipped)} already there, in ${duration(ms)} (${count((imported + skipped) / Math.max(ms / 1000, 0.001))}/s)`);
}

export function registerTransfer(program: Command): void {
  withGlobals(program.command('backup <file>'))
    .description('write a consistent copy of the server’s SQLite database to <file> while it serves')
    .option('--force', 'replace <file> if it exists')
    .addHelpText('after', '\nExamples:\n  $ aq backup ./asyncqueue-copy.db\n  $ aq backup /backups/aq.db --force --url http://queue.internal:8700')
    .action(async (file: string, opts: { force?: boolean }, cmd: Command) => backup(contextOf(cmd), file, Boolean(opts.force)));
  withGlobals(program.command('export'))
    .description('write every task with its attempts (and its chain steps and batch) as JSON lines to standard output (newest first)')
    .option('--status <status>', `only tasks in this state (${TASK_STATUSES.join(', ')})`)
    .option('--queue <name>', 'only tasks of this queue')
    .addHelpText('after', '\nExamples:\n  $ aq export > tasks.jsonl\n  $ aq export --status failed --queue emails | wc -l')
    .action(async (opts: { status?: string; queue?: string }, cmd: Command) => {
      if (opts.status !== undefined && !TASK_STATUSES.includes(opts.status as TaskStatus)) throw new CliError(`--status must be one of ${TASK_STATUSES.join(', ')}`, 2);
      await exportTasks(contextOf(cmd), { status: opts.status as TaskStatus | undefined, queue: opts.queue });
    });
  withGlobals(program.command('import <file>'))
    .description('import the JSON lines of an export (a file, or - for standard input), keeping ids and states; repeating it skips what is there')
    .addHelpText('after', '\nExamples:\n  $ aq import tasks.jsonl --url http://new-server:8700\n  $ aq export --url http://old:8700 | aq import - --url http://new:8700')
    .action(async (file: string, _opts: unknown, cmd: Command) => importTasks(contextOf(cmd), file));
}
