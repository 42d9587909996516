// Chains (api.md §13): the task a `then` or `onFailure` step creates when its parent ends.
// Both stores call followUpOf inside the transaction that ends the parent, so the step's task
// exists exactly when the end does. Pure: the parent's columns in, a NewTask out.
import { toNewTask, type NewTask } from '../shared/defaults.js';
import type { ChainedTaskInput } from '../shared/types.js';

/** What a chain step needs of the task that just ended (its columns; times in ms). */
export interface EndedTask {
  id: string;
  queue: string;
  status: 'completed' | 'failed';
  payloadJson: string;
  resultJson: string | null;
  errorJson: string | null;
  attempts: number;
  completedAt: number;
  chainJson: string | null;
}

/** The §5 webhook body of an ended task, assembled from its stored JSON texts. */
export function outcomeBodyJson(p: Omit<EndedTask, 'chainJson'>): string {
  return `{"id":${JSON.stringify(p.id)},"status":${JSON.stringify(p.status)},"queue":${JSON.stringify(p.queue)},"payload":${p.payloadJson},"result":${p.resultJson ?? 'null'},"error":${p.errorJson ?? 'null'},"attempts":${p.attempts},"completedAt":${JSON.stringify(new Date(p.completedAt).toISOString())}}`;
}

/**
 * The task the ended task's step creates at `now`: `then` for `completed`, `onFailure` for
 * `failed`, none otherwise. Without a payload of its own the new task's payload is the parent's
 * result (`then`) or its §5 webhook body (`onFailure`).
 */
export function followUpOf(p: EndedTask, now: number): NewTask | undefined {
  if (p.chainJson === null) return undefined;
  const chain = JSON.parse(p.chainJson) as { then?: ChainedTaskInput; onFailure?: ChainedTaskInput };
  const step = p.status === 'completed' ? chain.then : chain.onFailure;
  if (!step) return undefined;
  const t = toNewTask(step, now, { parentId: p.id });
  if (step.payload === undefined) {
    t.payloadJson = p.status === 'completed' ? (p.resultJson ?? 'null') : outcomeBodyJson(p);
    t.payload = undefined; // read from payloadJson when the created task is answered
  }
  return t;
}
