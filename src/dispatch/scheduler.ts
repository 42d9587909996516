// Claims due tasks for free slots and runs their attempts. Wakes on work (a create, a retry,
// a freed slot, a queue change, the next runAt) with a slow backstop poll; one interval
// enforces every attempt's deadline. Does not decide outcomes (decide.ts) or send (deliver.ts).
import type { Agent } from 'undici';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { ClaimedTask, Store } from '../store/store.js';
import { decideNext, type Decision } from './decide.js';
import { send } from './deliver.js';
import { taskEvent, type TaskEvents } from './events.js';
import { outboundHeaders } from './headers.js';
import { Limits } from './limits.js';
import type { AttemptOutcome } from './outcome.js';

export interface SchedulerOptions {
  store: Store;
  events: TaskEvents;
  clock: Clock;
  log: Logger;
  agent: Agent;
  /** Decoded signing secret. */
  signingKey: Buffer;
  /** Max attempts in flight across all queues. */
  concurrency: number;
  /** Bytes of a target's answer kept as `result`. */
  maxResultBytes: number;
  userAgent: string;
  /** Called when a task ends with a webhook to deliver. */
  onWebhookDue?: () => void;
  /** Random draws for jitter (default Math.random). */
  random?: () => number;
  /** Backstop poll interval in ms (default 1000). */
  backstopMs?: number;
  /** Called as each attempt ends, with its duration in ms and the decision (for metrics). */
  onAttempt?: (a: { queue: string; durationMs: number; next: 'completed' | 'pending' | 'failed' }) => void;
}

interface Running {
  controller: AbortController;
  deadline: number;
  queue: string;
}

const NO_BODY = new Set(['GET', 'DELETE']);
/** Longest single timer the scheduler arms, in ms (1 hour); well under setTimeout's 2^31−1 limit. */
const MAX_TIMER_MS = 3_600_000;

export class Scheduler {
  readonly limits: Limits;
  private readonly running = new Map<string, Running>();
  private readonly finishing = new Set<Promise<unknown>>();
  /** Attempt results waiting to be recorded (flushed once per event-loop turn). */
  private results: { t: ClaimedTask; d: Decision; now: number; durationMs: number }[] = [];
  private scheduled = false;
  private draining = false;
  private again = false;
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private readonly deadlineTimer: NodeJS.Timeout;
  private readonly backstop: NodeJS.Timeout;
  private readonly random: () => number;
  private readonly unsubscribe: () => void;
  /** Slots that must be free before a busy scheduler claims again: a tenth of the concurrency, 1–16. */
  private readonly minClaim: number;

  constructor(private readonly o: SchedulerOptions) {
    this.limits = new Limits(o.concurrency);
    this.random = o.random ?? Math.random;
    this.minClaim = Math.max(1, Math.min(16, Math.floor(o.concurrency / 10)));
    this.deadlineTimer = setInterval(() => this.enforceDeadlines(), 25).unref();
    this.backstop = setInterval(() => this.wake(), o.backstopMs ?? 1000).unref();
    // A cancel (or delete) of a running task aborts its request (api.md §2).
    this.unsubscribe = o.events.on((e) => {
      if (e.status === 'cancelled') this.running.get(e.id)?.controller.abort('cancelled');
    });
  }

  /** Attempts in flight now. */
  get inFlight(): number {
    return this.running.size;
  }

  /** Asks for a claim soon; many calls in one tick make one claim. */
  wake(): void {
    if (this.scheduled || this.stopping) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = true;
    // Busy: every slot (or all but a few) is taken, so a finishing attempt will wake us; no timer needed.
    let busy = false;
    try {
      do {
        this.again = false;
        if (this.stopping || this.limits.free() === 0) {
          busy = true;
          break;
        }
        // Under load, wait until a few slots are free and claim them together: one claim
        // transaction per slot would cost more than the attempts it starts.
        if (this.limits.free() < this.minClaim && this.limits.total >= this.minClaim) {
          busy = true;
          break;
        }
        this.limits.setQueues(await this.o.store.queueLimits());
        const now = this.o.clock.now();
        const open = this.limits.openQueues().filter((q) => this.limits.capacityOf(q, now) > 0);
        if (open.length === 0) break;
        const due = await this.o.store.dueQueues(open, now);
        if (due.length === 0) break;
        const claimed = await this.o.store.claimTasks(this.limits.allocate(due, now), now);
        const perQueue = new Map<string, number>();
        for (const t of claimed) perQueue.set(t.queue, (perQueue.get(t.queue) ?? 0) + 1);
        for (const [q, n] of perQueue) this.limits.acquire(q, n, now);
        for (const t of claimed) this.start(t);
        if (claimed.length > 0) this.again = true;
      } while (this.again && !this.stopping);
    } catch (err) {
      this.o.log.error('claiming tasks failed', { err });
    } finally {
      this.draining = false;
    }
    if (!busy) await this.arm();
  }

  /** Arms the one timer for the next moment work becomes possible: a runAt or a rate-limit token. */
  private async arm(): Promise<void> {
    if (this.stopping || this.limits.free() === 0) return;
    const now = this.o.clock.now();
    try {
      const open = this.limits.openQueues();
      const ready = open.filter((q) => this.limits.capacityOf(q, now) > 0);
      let next = (await this.o.store.nextDueAt(ready)) ?? Infinity;
      for (const q of open) {
        const tokenAt = this.limits.tokenWaitUntil(q, now);
        if (tokenAt === undefined) continue;
        const due = await this.o.store.nextDueAt([q]);
        if (due !== null) next = Math.min(next, Math.max(due, tokenAt));
      }
      if (next === Infinity) return;
      // setTimeout fires at once for delays over 2^31−1 ms (~24.8 days; a delay may be a year),
      // so a far runAt is approached in steps and re-armed when the timer fires.
      const at = Math.min(Math.max(next, now + 1), now + MAX_TIMER_MS);
      if (this.timer && this.timerAt <= at) return;
      clearTimeout(this.timer);
      this.timerAt = at;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.wake();
      }, at - now);
      this.timer.unref();
    } catch (err) {
      this.o.log.error('arming the scheduler timer failed', { err });
    }
  }

  private start(t: ClaimedTask): void {
    const controller = new AbortController();
    const entry: Running = { controller, deadline: t.startedAt + t.timeoutMs, queue: t.queue };
    this.running.set(t.id, entry);
    this.o.events.emit(taskEvent(t.id, t.queue, 'running', t.attempt, t.startedAt));
    const body = NO_BODY.has(t.method) ? null : t.payloadJson;
    const headers = outboundHeaders(
      t.headers,
      { 'aq-task-id': t.id, 'aq-attempt': String(t.attempt), 'aq-queue': t.queue },
      { id: t.id, body: body ?? '', timestamp: Math.floor(t.startedAt / 1000), key: this.o.signingKey, userAgent: this.o.userAgent },
    );
    send(this.o.agent, {
      url: t.targetUrl, method: t.method, headers, body, signal: controller.signal, timeoutMs: t.timeoutMs,
      maxResultBytes: this.o.maxResultBytes, keepBody: true,
    }).then((outcome) => this.finish(t, outcome, entry));
  }

  private finish(t: ClaimedTask, outcome: AttemptOutcome, entry: Running): void {
    // Only our own entry: after cancel → retry, a newer attempt of this task may already be running.
    if (this.running.get(t.id) === entry) this.running.delete(t.id);
    this.limits.release(entry.queue);
    const now = this.o.clock.now();
    const d = decideNext(outcome, t, { method: t.method, url: t.targetUrl }, now, this.random());
    this.o.onAttempt?.({ queue: t.queue, durationMs: outcome.durationMs, next: d.next.status });
    // Results of one event-loop turn are recorded in one store call (one savepoint, not one each).
    if (this.results.push({ t, d, now, durationMs: outcome.durationMs }) === 1) setImmediate(() => this.record());
    this.wake();
  }

  private record(): void {
    const batch = this.results;
    this.results = [];
    const p = this.o.store
      .finishAttempts(
        batch.map(({ t, d, now, durationMs }) => ({
          id: t.id, attempt: t.attempt, startedAt: t.startedAt, durationMs, httpStatus: d.httpStatus, error: d.error, next: d.next, now,
        })),
      )
      .then((applied) => {
        let webhookDue = false;
        const info = this.o.log.enabled('info');
        batch.forEach(({ t, d, now }, i) => {
          if (!applied[i]) return;
          this.o.events.emit(taskEvent(t.id, t.queue, d.next.status, t.attempt, now));
          if (t.hasWebhook && d.next.status !== 'pending') webhookDue = true;
          if (info) this.o.log.info('task ' + d.next.status, { task: t.id, queue: t.queue, attempt: t.attempt, status: d.httpStatus, error: d.error?.type });
        });
        if (webhookDue) this.o.onWebhookDue?.();
      })
      .catch((err) => this.o.log.error('recording attempts failed', { err, tasks: batch.length }))
      .finally(() => this.finishing.delete(p));
    this.finishing.add(p);
  }

  private enforceDeadlines(): void {
    if (this.running.size === 0) return;
    const now = this.o.clock.now();
    for (const r of this.running.values()) if (now >= r.deadline) r.controller.abort('timeout');
  }

  /** Stops claiming; lets attempts in flight finish within `graceMs`, then interrupts the rest. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    clearInterval(this.backstop);
    const until = Date.now() + graceMs;
    while (this.running.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    for (const r of this.running.values()) r.controller.abort('interrupted');
    while (this.running.size > 0 || this.finishing.size > 0 || this.results.length > 0) {
      await Promise.allSettled([...this.finishing]);
      if (this.results.length > 0) await new Promise((r) => setImmediate(r));
      else if (this.running.size > 0) await new Promise((r) => setTimeout(r, 5));
    }
    clearInterval(this.deadlineTimer);
    this.unsubscribe();
  }
}
