// How a Task leaves the API: `waiting` filled in (api.md §11) and credential headers masked.
// Every route that answers with tasks goes through here, so a list costs one snapshot of the
// limits, not a query per task.
import { maskTask } from '../shared/mask.js';
import type { Task } from '../shared/types.js';
import type { ApiDeps } from './deps.js';

/** The tasks as the API shows them. */
export async function presentTasks(deps: Pick<ApiDeps, 'explain'>, tasks: Task[]): Promise<Task[]> {
  const shown = deps.explain ? await deps.explain.annotate(tasks) : tasks;
  return shown.map(maskTask);
}

/** One task as the API shows it. */
export async function presentTask(deps: Pick<ApiDeps, 'explain'>, task: Task): Promise<Task> {
  return (await presentTasks(deps, [task]))[0]!;
}
