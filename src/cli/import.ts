// `aq enqueue --file tasks.ndjson`: streams an NDJSON file into POST /v1/tasks/batch in
// batches of up to 1000. Each batch is checked line by line before it is sent and the
// batch API is all-or-nothing, so a failure leaves exactly the earlier batches created.
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { MAX_BATCH, type CreateTaskInput } from '../shared/types.js';
import { AsyncQueueError, BatchError, invalidIndex } from '../sdk/errors.js';
import { CliError, type Context, describeError, printJson } from './context.js';
import { count, duration } from './format.js';
import { ProgressBar } from './progress.js';

/** Why one line cannot be a task, or undefined when it can. */
export function checkLine(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'expected a JSON object';
  const url = (value as { targetUrl?: unknown }).targetUrl;
  if (typeof url !== 'string' || url === '') return 'missing "targetUrl"';
  return undefined;
}

/** Imports the tasks of `file` ("-" for standard input), each merged over `defaults`; prints a summary. */
export async function importFile(ctx: Context, file: string, defaults: Partial<CreateTaskInput>): Promise<void> {
  let total: number | undefined;
  if (file !== '-') {
    try {
      total = statSync(file).size;
    } catch (err) {
      throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const input = file === '-' ? process.stdin : createReadStream(file);
  const lines = createInterface({ input, crlfDelay: Infinity });
  const bar = new ProgressBar(ctx.out.stderr, 'tasks', total);
  const started = Date.now();
  const ids: string[] = [];
  let batch: CreateTaskInput[] = [];
  let lineNos: number[] = [];
  let lineNo = 0;
  let bytes = 0;

  const finish = (error?: { line?: number; message: string }) => {
    bar.clear();
    const ms = Date.now() - started;
    if (ctx.json) printJson(ctx, error ? { created: ids.length, ids, error } : { created: ids.length, ids });
    else if (!error) ctx.out.line(`created ${count(ids.length)} tasks in ${duration(ms)} (${count(ids.length / Math.max(ms / 1000, 0.001))}/s)`);
    if (error) {
      const where = error.line ? `line ${error.line}: ` : '';
      const kept = ids.length ? `${count(ids.length)} tasks before line ${lineNos[0] ?? lineNo} were created; nothing from that line on was sent` : 'no task was created';
      throw new CliError(`${where}${error.message} — ${kept}`);
    }
  };

  const send = async () => {
    if (!batch.length) return;
    try {
      const created = await ctx.aq.tasks.createMany(batch);
      for (const t of created) ids.push(t.id);
    } catch (err) {
      const cause = err instanceof BatchError ? (err.cause as AsyncQueueError) : err;
      const index = err instanceof AsyncQueueError ? invalidIndex(err) : undefined;
      // The server names fields as tasks.<index>.<field>; the line number says which task.
      const message = describeError(cause, ctx.url).replace(/tasks\.\d+\.?/g, '');
      finish({ line: index === undefined ? undefined : lineNos[index], message });
    }
    batch = [];
    lineNos = [];
    bar.update(ids.length, bytes);
  };

  try {
    for await (const line of lines) {
      lineNo++;
      bytes += Buffer.byteLength(line) + 1;
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        return finish({ line: lineNo, message: `not valid JSON (${(err as Error).message})` });
      }
      const problem = checkLine(value);
      if (problem) return finish({ line: lineNo, message: problem });
      batch.push({ ...defaults, ...(value as CreateTaskInput) });
      lineNos.push(lineNo);
      if (batch.length === MAX_BATCH) await send();
    }
  } catch (err) {
    if (err instanceof CliError) throw err;
    return finish({ message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
  }
  await send();
  bar.update(ids.length, total ?? bytes, true);
  finish();
}
