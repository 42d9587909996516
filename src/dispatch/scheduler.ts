// Claims due tasks for free slots and runs their attempts. Wakes on work (a create, a retry,
// a freed slot, a queue change, the next runAt or async deadline) with a slow backstop poll;
// one interval enforces every attempt's deadline. A 202 to an async task leaves the attempt
// open (api.md §10): its deadline is stored and met by the same loop timer, never a timer per
// task. Does not decide outcomes (decide.ts, async-decide.ts) or send (deliver.ts).
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { NewTask } from '../shared/defaults.js';
import { completionToken } from '../shared/completion-token.js';
import type { AsyncEnd, AttemptAccept, AttemptFinish, ClaimedTask, Store, TaskUnclaim } from '../store/store.js';
import { HOST_WAIT_MS, PARK_PER_ORIGIN, type HostTable, type HostTicket } from './hosts.js';
import { parseRetryAfter } from './retry-after.js';
import { acceptDeadline, asyncTimeoutError, decideAsyncFailure } from './async-decide.js';
import { decideNext, type Decision } from './decide.js';
import { send, type Outbound } from './deliver.js';
import type { TaskEvents } from './events.js';
import { outboundHeaders } from './headers.js';
import { callbackTask, qstashBody, qstashHeaders, retryDelayOf } from './qstash.js';
import { Limits } from './limits.js';
import { InFlight, Loop, type PassResult } from './loop.js';
import type { AttemptOutcome } from './outcome.js';

export interface SchedulerOptions {
  store: Store;
  events: TaskEvents;
  clock: Clock;
  log: Logger;
  agent: Outbound;
  /** Decoded signing secret. */
  signingKey: Buffer;
  /** Max attempts in flight across all queues. */
  concurrency: number;
  /** Bytes of a target's answer kept as `result`. */
  maxResultBytes: number;
  userAgent: string;
  /** The current QStash signing key, for `Upstash-Signature` on `/v2` tasks (api.md §14). */
  qstashSigningKey?: string;
  /** Called when a task ends with a webhook to deliver. */
  onWebhookDue?: () => void;
  /** Random draws for jitter (default Math.random). */
  random?: () => number;
  /** Backstop poll interval in ms (default 1000). */
  backstopMs?: number;
  /** Called as each attempt ends, with its duration in ms and the decision (for metrics). */
  onAttempt?: (a: { queue: string; durationMs: number; next: 'completed' | 'pending' | 'failed' }) => void;
  /** Per-origin circuit breakers and limits (api.md §12); none: every origin is admitted. */
  hosts?: HostTable;
  /** Async completion (api.md §10): the key of completion tokens, and a task's completion URL. */
  completion: { key: Buffer; url: (taskId: string) => string };
}

interface Running {
  controller: AbortController;
  deadline: number;
  queue: string;
  /** The attempt number this request makes. */
  attempt: number;
  /** The origin's admission (hosts.ts), handed back when the attempt ends. */
  host: HostTicket | undefined;
}

const NO_BODY = new Set(['GET', 'DELETE']);
/** Open async attempts timed out per store call. */
const EXPIRE_BATCH = 100;

export class Scheduler {
  readonly limits: Limits;
  private readonly running: InFlight<Running>;
  /** The wake/pass/arm loop (its `busy` tells a virtual clock when work has settled). */
  readonly loop: Loop;
  /** Attempt results waiting to be recorded (flushed once per event-loop turn). */
  private results: { t: ClaimedTask; d: Decision; now: number; durationMs: number; followUp?: NewTask }[] = [];
  /** 202s waiting to be recorded (flushed once per event-loop turn). */
  private accepts: (AttemptAccept & { queue: string })[] = [];
  /**
   * Earliest deadline of an open async attempt (ms) as far as this process knows. Other nodes'
   * 202s and heartbeats move it, so it is read again from the store every backstop interval.
   */
  private asyncAt = -Infinity;
  private asyncReadAt = -Infinity;
  private readonly backstopMs: number;
  private readonly random: () => number;
  private readonly unsubscribe: () => void;
  private readonly unsubscribeResync: () => void;
  /**
   * Keyed queues (api.md §12) whose last claim started fewer than it was given slots for: their
   * due tasks wait on their keys' caps, so claiming again at once would find the same. They sit
   * out until a wake (a create, a finished attempt recorded) or a backstop interval (other
   * nodes' attempts ending), by the time (ms) they were set aside: no busy loop on a capped key.
   */
  private readonly keyBlocked = new Map<string, number>();
  /** Claimed tasks waiting for a slot of their origin's limit (api.md §12), by origin; they hold their scheduler slots. */
  private readonly parked = new Map<string, ClaimedTask[]>();
  /** Slots that must be free before a busy scheduler claims again: a tenth of the concurrency, 1–16. */
  private readonly minClaim: number;

  constructor(private readonly o: SchedulerOptions) {
    this.limits = new Limits(o.concurrency);
    this.random = o.random ?? Math.random;
    this.minClaim = Math.max(1, Math.min(16, Math.floor(o.concurrency / 10)));
    this.running = new InFlight(o.clock);
    this.backstopMs = o.backstopMs ?? 1000;
    this.loop = new Loop({ name: 'scheduler', clock: o.clock, log: o.log, pass: () => this.pass(), nextAt: () => this.nextAt(), backstopMs: this.backstopMs });
    // A cancel (or delete) of a running task aborts its request (api.md §2).
    this.unsubscribe = o.events.on((e) => {
      if (e.status !== 'cancelled') return;
      this.running.get(e.id)?.controller.abort('cancelled');
      this.unpark(e.id);
    });
    // Events may have been missed (the listening connection to the other nodes came back): a
    // cancel or delete made on another node meanwhile still aborts its request here.
    this.unsubscribeResync = o.events.onResync(() => this.loop.track(this.recheckRunning(), 'rechecking running tasks failed'));
  }

  /** Aborts the requests (and drops the parked tasks) whose task is no longer this attempt's: cancelled, deleted, or taken over. */
  private async recheckRunning(): Promise<void> {
    const mine = [...this.running.entries().map(([id, e]) => [id, e.attempt] as const), ...[...this.parked.values()].flat().map((t) => [t.id, t.attempt] as const)];
    for (const [id, attempt] of mine) {
      const task = await this.o.store.getTask(id);
      if (task && task.status === 'running' && task.attempts === attempt) continue;
      const entry = this.running.get(id);
      if (entry?.attempt === attempt) entry.controller.abort('cancelled');
      this.unpark(id);
    }
  }

  /** Attempts in flight now. */
  get inFlight(): number {
    return this.running.size;
  }

  /** When the scheduler's timer next wakes it (ms since the epoch), if armed: the next runAt or rate-limit token, at most an hour ahead. */
  get wakeAt(): number | undefined {
    return this.loop.wakeAt;
  }

  /** Asks for a claim soon; many calls in one tick make one claim. Keyed queues set aside are looked at again. */
  wake(): void {
    this.keyBlocked.clear();
    this.loop.wake();
  }

  /** Queues set aside because their keys are at their caps (see keyBlocked); those past a backstop interval come back. */
  private setAside(now: number): ReadonlySet<string> {
    for (const [q, at] of this.keyBlocked) if (now - at >= this.backstopMs / 2 || now < at) this.keyBlocked.delete(q);
    return new Set(this.keyBlocked.keys());
  }

  /** One claim; then when to claim next. */
  private async pass(): Promise<PassResult> {
    await this.expireDeadlines();
    // Busy: every slot (or all but a few) is taken, so a finishing attempt will wake us; no timer needed.
    if (this.limits.free() === 0) return 'busy';
    // Under load, wait until a few slots are free and claim them together: one claim
    // transaction per slot would cost more than the attempts it starts.
    if (this.limits.free() < this.minClaim && this.limits.total >= this.minClaim) return 'busy';
    this.limits.setQueues(await this.o.store.queueLimits());
    const now = this.o.clock.now();
    // Parked tasks whose origin's slot freed by a request the scheduler did not make (a webhook delivery to it).
    for (const origin of [...this.parked.keys()]) this.startParked(origin, now);
    const aside = this.setAside(now);
    const open = this.limits.openQueues().filter((q) => !aside.has(q) && this.limits.capacityOf(q, now) > 0);
    if (open.length === 0) return 'done';
    const due = await this.o.store.dueQueues(open, now);
    if (due.length === 0) return 'done';
    const allocation = this.limits.allocate(due, now);
    const claimed = await this.o.store.claimTasks(allocation, now);
    const perQueue = new Map<string, number>();
    for (const t of claimed) perQueue.set(t.queue, (perQueue.get(t.queue) ?? 0) + 1);
    for (const [q, n] of allocation) {
      if (this.limits.keyConcurrencyOf(q) !== null && (perQueue.get(q) ?? 0) < n) this.keyBlocked.set(q, now);
    }
    // api.md §12: a task whose origin has an open circuit, a full limit or a Retry-After delay is
    // given back unstarted, due when the origin can take it, its attempt not counted.
    // A few tasks of an origin at its limit wait here, holding their slots, and start as its
    // attempts end (so a lowered limit is used fully); the rest are given back like the others.
    const go: [ClaimedTask, HostTicket | undefined][] = [];
    const back: TaskUnclaim[] = [];
    const park: [string, ClaimedTask][] = [];
    for (const t of claimed) {
      const a = this.o.hosts ? this.o.hosts.admit(t.targetUrl, now) : { ok: true as const, ticket: undefined };
      if (a.ok) go.push([t, a.ticket]);
      else if (a.reason === 'limit' && (this.parked.get(a.origin)?.length ?? 0) + park.filter(([o]) => o === a.origin).length < PARK_PER_ORIGIN) park.push([a.origin, t]);
      else back.push({ id: t.id, attempt: t.attempt, runAt: Math.max(a.until ?? 0, now + HOST_WAIT_MS) });
    }
    perQueue.clear();
    for (const t of [...go.map(([x]) => x), ...park.map(([, x]) => x)]) perQueue.set(t.queue, (perQueue.get(t.queue) ?? 0) + 1);
    for (const [q, n] of perQueue) this.limits.acquire(q, n, now);
    for (const [origin, t] of park) {
      let list = this.parked.get(origin);
      if (!list) this.parked.set(origin, (list = []));
      list.push(t);
    }
    for (const [t, ticket] of go) this.start(t, ticket);
    if (back.length > 0) await this.o.store.unclaimTasks(back, now);
    return claimed.length > 0 ? 'again' : 'done';
  }

  /** The next moment work becomes possible: a runAt or a rate-limit token; null when none (or every slot is taken). */
  private async nextAt(): Promise<number | null> {
    if (this.limits.free() === 0) return null;
    const now = this.o.clock.now();
    // Parked tasks whose origin's slot freed by a request the scheduler did not make (a webhook delivery to it).
    for (const origin of [...this.parked.keys()]) this.startParked(origin, now);
    const aside = this.setAside(now);
    const open = this.limits.openQueues().filter((q) => !aside.has(q));
    const ready = open.filter((q) => this.limits.capacityOf(q, now) > 0);
    let next = (await this.o.store.nextDueAt(ready)) ?? Infinity;
    for (const q of open) {
      const tokenAt = this.limits.tokenWaitUntil(q, now);
      if (tokenAt === undefined) continue;
      const due = await this.o.store.nextDueAt([q]);
      if (due !== null) next = Math.min(next, Math.max(due, tokenAt));
    }
    next = Math.min(next, this.asyncAt);
    return next === Infinity ? null : next;
  }

  private start(t: ClaimedTask, host: HostTicket | undefined): void {
    const controller = new AbortController();
    const entry: Running = { controller, deadline: t.startedAt + t.timeoutMs, queue: t.queue, attempt: t.attempt, host };
    this.running.add(t.id, entry);
    const q = t.qstash;
    const body = NO_BODY.has(t.method) ? null : q ? qstashBody({ payloadJson: t.payloadJson, qstash: q }) : t.payloadJson;
    const ours: Record<string, string> = { 'aq-task-id': t.id, 'aq-attempt': String(t.attempt), 'aq-queue': t.queue };
    if (t.async) {
      // api.md §10: where and with what the target finishes this attempt; the token is valid for it alone.
      ours['aq-completion-url'] = this.o.completion.url(t.id);
      ours['aq-completion-token'] = completionToken(this.o.completion.key, t.id, t.attempt);
    }
    const headers = outboundHeaders(
      t.headers,
      ours,
      { id: t.id, body: body ?? '', timestamp: Math.floor(t.startedAt / 1000), key: this.o.signingKey, userAgent: this.o.userAgent },
    );
    if (q) {
      // A QStash message keeps its own media type (api.md §14: the body passes through untouched).
      if (q.contentType) headers['content-type'] = q.contentType;
      else delete headers['content-type'];
      Object.assign(headers, qstashHeaders({ ...t, qstash: q }, body ?? '', this.o.qstashSigningKey ?? '', Math.floor(Date.now() / 1000)));
    }
    const attempt = send(this.o.agent, {
      url: t.targetUrl, method: t.method, headers, body, signal: controller.signal, timeoutMs: t.timeoutMs,
      maxResultBytes: this.o.maxResultBytes, keepBody: true, keepRaw: !!(q && (q.callback || q.failureCallback)),
    }).then((outcome) => this.finish(t, outcome, entry));
    this.loop.track(attempt, 'finishing an attempt failed');
  }

  private finish(t: ClaimedTask, outcome: AttemptOutcome, entry: Running): void {
    // Only our own entry: after cancel → retry, a newer attempt of this task may already be running.
    this.running.delete(t.id, entry);
    this.limits.release(entry.queue);
    const now = this.o.clock.now();
    if (entry.host) {
      this.o.hosts?.finish(entry.host, outcome, outcome.kind === 'response' ? parseRetryAfter(outcome.retryAfter, now) : undefined, now);
      this.startParked(entry.host.origin, now);
    }
    if (t.async && outcome.kind === 'response' && outcome.status === 202) {
      // api.md §10: the target took the work over. The attempt stays open, holding no slot of
      // the queue's or the global concurrency (its request is over), until complete, fail or its deadline.
      const a = { id: t.id, queue: t.queue, attempt: t.attempt, startedAt: t.startedAt, now, deadline: acceptDeadline(now, t.async) };
      if (this.accepts.push(a) === 1) {
        this.loop.track(new Promise<void>((r) => setImmediate(r)).then(() => this.recordAccepts()), 'recording 202 answers failed');
      }
      this.wake();
      return;
    }
    // Under a virtual clock (api.md §15) an attempt lasts as long as the clock moved while it ran.
    const durationMs = this.o.clock.virtual ? now - t.startedAt : outcome.durationMs;
    const retryDelayMs = t.qstash ? retryDelayOf(t.qstash) : undefined;
    const d = decideNext(outcome, retryDelayMs ? { ...t, retryDelayMs } : t, { method: t.method, url: t.targetUrl }, now, this.random());
    const followUp = t.qstash ? callbackTask({ ...t, qstash: t.qstash }, outcome, d, now) : undefined;
    this.o.onAttempt?.({ queue: t.queue, durationMs, next: d.next.status });
    // Results of one event-loop turn are recorded in one store call (one savepoint, not one each).
    if (this.results.push({ t, d, now, durationMs, followUp }) === 1) {
      this.loop.track(new Promise<void>((r) => setImmediate(r)).then(() => this.record()), 'recording attempts failed');
    }
    this.wake();
  }

  private record(): Promise<void> {
    const batch = this.results;
    this.results = [];
    const finishes: AttemptFinish[] = batch.map(({ t, d, now, durationMs, followUp }) => ({
      id: t.id, attempt: t.attempt, startedAt: t.startedAt, durationMs, httpStatus: d.httpStatus, error: d.error, next: d.next, now,
      followUps: followUp ? [followUp] : undefined,
      retryAfterMs: d.retryAfterMs,
      hasChain: t.hasChain,
      batchId: t.batchId,
    }));
    return this.o.store
      .finishAttempts(finishes)
      .then((applied) => {
        let webhookDue = false;
        let retrying = false;
        let created = false;
        const info = this.o.log.enabled('info');
        batch.forEach(({ t, d, followUp }, i) => {
          if (!applied[i]) return;
          if (d.next.status === 'pending') retrying = true;
          if (followUp || finishes[i]!.chained) created = true;
          // a batch member's end may make its batch done, with a batch.done webhook due (api.md §13)
          if ((t.hasWebhook || finishes[i]!.batchDone) && d.next.status !== 'pending') webhookDue = true;
          if (info) this.o.log.info('task ' + d.next.status, { task: t.id, queue: t.queue, attempt: t.attempt, status: d.httpStatus, error: d.error?.type });
        });
        if (webhookDue) this.o.onWebhookDue?.();
        // The wake in finish() ran before this commit: arm the timer for the retries' run times now,
        // and look again at keyed queues set aside (the finished attempts freed their keys' slots).
        if (retrying || created || this.keyBlocked.size > 0) this.wake();
      })
      .catch((err) => this.o.log.error('recording attempts failed', { err, tasks: batch.length }));
  }

  private async recordAccepts(): Promise<void> {
    const batch = this.accepts;
    this.accepts = [];
    const applied = await this.o.store.acceptAttempts(batch);
    batch.forEach((a, i) => {
      if (!applied[i]) return;
      this.asyncAt = Math.min(this.asyncAt, a.deadline);
      this.o.log.info('task awaiting completion', { task: a.id, queue: a.queue, attempt: a.attempt, deadline: new Date(a.deadline).toISOString() });
    });
    this.wake();
  }

  /** Times out open async attempts whose deadline passed (api.md §10); guarded, so one node wins each. */
  private async expireDeadlines(): Promise<void> {
    let now = this.o.clock.now();
    if (now - this.asyncReadAt >= this.backstopMs) {
      this.asyncReadAt = now;
      this.asyncAt = (await this.o.store.nextAsyncDeadline()) ?? Infinity;
    }
    if (now < this.asyncAt) return;
    const expired = await this.o.store.expiredAttempts(now, EXPIRE_BATCH);
    let webhookDue = false;
    await Promise.all(
      expired.map(async (s) => {
        const error = asyncTimeoutError(s.awaiting, s.async!);
        const next = decideAsyncFailure(error, true, { ...s, attempt: s.attempts }, now, this.random());
        const end: AsyncEnd = { id: s.id, attempt: s.attempts, ended: 'timeout', next, now };
        const task = await this.o.store.endAsyncAttempt(end);
        if (!task) return;
        if (end.chained) this.wake();
        if (task.batchId !== null && next.status !== 'pending') webhookDue = true;
        this.o.onAttempt?.({ queue: s.queue, durationMs: now - s.awaiting.since, next: next.status });
        if (s.hasWebhook && next.status !== 'pending') webhookDue = true;
        this.o.log.info('task ' + next.status, { task: s.id, queue: s.queue, attempt: s.attempts, error: 'timeout', message: error.message });
      }),
    );
    if (webhookDue) this.o.onWebhookDue?.();
    now = this.o.clock.now();
    this.asyncReadAt = now;
    this.asyncAt = expired.length === EXPIRE_BATCH ? now : ((await this.o.store.nextAsyncDeadline()) ?? Infinity);
  }

  /** Starts parked tasks of `origin` while it admits them; if it no longer can (its circuit opened), gives them back. */
  private startParked(origin: string, now: number): void {
    const list = this.parked.get(origin);
    if (!list || !this.o.hosts) return;
    const back: TaskUnclaim[] = [];
    while (list.length > 0) {
      const a = this.o.hosts.admit(list[0]!.targetUrl, now);
      if (!a.ok && a.reason === 'limit') break;
      const t = list.shift()!;
      if (a.ok) this.start({ ...t, startedAt: now }, a.ticket);
      else {
        this.limits.release(t.queue);
        back.push({ id: t.id, attempt: t.attempt, runAt: Math.max(a.until ?? 0, now + HOST_WAIT_MS) });
      }
    }
    if (list.length === 0) this.parked.delete(origin);
    if (back.length > 0) this.loop.track(this.o.store.unclaimTasks(back, now), 'giving back tasks failed');
  }

  /** Drops a parked task (cancelled or deleted): its slot frees; the store already has its new state. */
  private unpark(id: string): void {
    for (const [origin, list] of this.parked) {
      const i = list.findIndex((t) => t.id === id);
      if (i < 0) continue;
      this.limits.release(list[i]!.queue);
      list.splice(i, 1);
      if (list.length === 0) this.parked.delete(origin);
      this.wake();
      return;
    }
  }

  /** Stops claiming; gives back parked tasks; lets attempts in flight finish within `graceMs`, then interrupts the rest. */
  async stop(graceMs: number): Promise<void> {
    const parked = [...this.parked.values()].flat();
    this.parked.clear();
    if (parked.length > 0) {
      const now = this.o.clock.now();
      await this.o.store.unclaimTasks(parked.map((t) => ({ id: t.id, attempt: t.attempt, runAt: now })), now).catch((err) => this.o.log.warn('giving back parked tasks failed', { err }));
    }
    await this.loop.stop(graceMs, () => this.running.abortAll('interrupted'));
    this.running.close();
    this.unsubscribe();
    this.unsubscribeResync();
  }
}
