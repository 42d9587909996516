// `client.schedules`: recurring tasks from cron (docs/schedules.md) — list, get, upsert, update,
// pause/resume, delete and trigger. Each method is one route over the shared Requester.
import type { Schedule, ScheduleInput, ScheduleUpdate, Task } from '../shared/types.js';
import type { Requester } from './request.js';

const path = (id: string, rest = '') => `/v1/schedules/${encodeURIComponent(id)}${rest}`;

/** The schedule routes of one server. */
export class SchedulesResource {
  readonly #r: Requester;

  constructor(requester: Requester) {
    this.#r = requester;
  }

  /** Every schedule, ordered by id. */
  async list(opts: { signal?: AbortSignal } = {}): Promise<Schedule[]> {
    const answer = await this.#r.request<{ schedules: Schedule[] }>({ expect: 'schedules', method: 'GET', path: '/v1/schedules', retry: true, signal: opts.signal });
    return answer.schedules;
  }

  /** One schedule; rejects with AsyncQueueError status 404 when there is none. */
  async get(id: string, opts: { signal?: AbortSignal } = {}): Promise<Schedule> {
    return this.#r.request<Schedule>({ expect: 'id', method: 'GET', path: path(id), retry: true, signal: opts.signal });
  }

  /**
   * Creates a schedule, or replaces the one with the same `id` (safe to repeat, so deploy
   * scripts can declare schedules). Without an `id` the server generates one (`sch_…`) and
   * every call creates a new schedule. Unchanged timing keeps the next fire time.
   */
  async upsert(input: ScheduleInput): Promise<Schedule> {
    return this.#r.request<Schedule>({ expect: 'id', method: 'POST', path: '/v1/schedules', body: input, retry: input.id !== undefined });
  }

  /** Same as {@link upsert}: `POST /v1/schedules`. */
  async create(input: ScheduleInput): Promise<Schedule> {
    return this.upsert(input);
  }

  /** Changes the given fields of an existing schedule (404 when there is none). */
  async update(id: string, update: ScheduleUpdate): Promise<Schedule> {
    return this.#r.request<Schedule>({ expect: 'id', method: 'PUT', path: path(id), body: update, retry: true });
  }

  /** Stops firing; missed fire times while paused are not caught up. Like `update(id, { paused: true })`. */
  async pause(id: string): Promise<Schedule> {
    return this.update(id, { paused: true });
  }

  /** Fires again from the next fire time after now. Like `update(id, { paused: false })`. */
  async resume(id: string): Promise<Schedule> {
    return this.update(id, { paused: false });
  }

  /** Deletes the schedule; tasks it created stay. */
  async delete(id: string): Promise<void> {
    await this.#r.request<void>({ method: 'DELETE', path: path(id) });
  }

  /** Runs the schedule now: creates one task (outside its fire times) and returns it. */
  async trigger(id: string): Promise<Task> {
    return this.#r.request<Task>({ expect: 'id', method: 'POST', path: path(id, '/trigger') });
  }
}
