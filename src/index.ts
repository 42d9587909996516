// The "asyncqueue" entry point: the SDK client, its errors, signature checking, and the wire
// types. Imports only src/sdk and src/shared, so it loads no server code and no native module.
export { AsyncQueue, DEFAULT_URL, type AsyncQueueOptions } from './sdk/client.js';
export { AsyncQueueError, BatchError, type ClientErrorCode } from './sdk/errors.js';
export { TasksResource, isTerminal, type BulkResult, type CompletionOptions, type CreateManyOptions, type CreateOptions, type CreatedTasks, type WaitOptions } from './sdk/tasks.js';
export { BatchesResource, type BatchWaitOptions } from './sdk/batches.js';
export { completionFromHeaders, type Completion } from './sdk/completion.js';
export { QueuesResource } from './sdk/queues.js';
export { HostsResource } from './sdk/hosts.js';
export { SchedulesResource } from './sdk/schedules.js';
export { ClockResource, SinkResource } from './sdk/dev.js';
export { TransferResource } from './sdk/transfer.js';
export type { ExportLine } from './shared/transfer.js';
export type { ClockState, SinkRequest } from './shared/dev.js';
export type { EventsOptions, SseMessage } from './sdk/events.js';
export { verifySignature, type VerifyOptions } from './sdk/verify.js';
export { parseTask, parseWebhook, ReceiveError, type IncomingRequest, type NodeRequestLike, type ReceiveOptions, type ReceivedTask, type ReceivedWebhook } from './sdk/receive.js';
export { MAX_BATCH, MAX_CHAIN_DEPTH, MAX_IMPLIED_TASKS, MAX_LIST_LIMIT, MAX_WAIT_SECONDS, TASK_STATUSES, TERMINAL_STATUSES } from './shared/types.js';
export type {
  AsyncSettings,
  Host,
  Attempt,
  CompletedWebhookBody,
  AttemptAsync,
  Awaiting,
  Backoff,
  Batch,
  BatchCounts,
  BatchDoneBody,
  BulkFilter,
  ChainedTaskInput,
  CreateBatchInput,
  CreateTaskInput,
  Delivery,
  ErrorBody,
  FailedWebhookBody,
  HttpMethod,
  ListTasksQuery,
  Queue,
  QueueUpdate,
  RedeliverFilter,
  Schedule,
  ScheduleCatchUp,
  ScheduleInput,
  ScheduleUpdate,
  Stats,
  Task,
  TaskError,
  TaskEvent,
  TaskList,
  TaskPlan,
  TaskStatus,
  Waiting,
  WaitingReason,
  WebhookBody,
  WebhookState,
} from './shared/types.js';
