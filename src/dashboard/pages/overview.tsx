// The overview (GET /): counts by state and tasks in flight (from /v1/stats), the per-minute
// chart, the queue table with pause/resume and limit editing (PUT /v1/queues/:name), and the
// nodes sharing the database (GET /v1/cluster, api.md §9).
import type { ClusterNodeView, Queue, Stats } from '../../shared/types.js';
import { TASK_STATUSES } from '../../shared/types.js';
import { DataTable, Notice } from '../layout.js';
import { Chart } from './chart.js';

export function Counts({ stats }: { stats: Stats }) {
  return (
    <ul class="cards">
      {TASK_STATUSES.map((s) => (
        <li>
          <a class={`card s-${s}`} href={`/tasks?status=${s}`}>
            <span class="n">{stats.counts[s] ?? 0}</span>
            <span class="label">{s}</span>
          </a>
        </li>
      ))}
      <li>
        <span class="card">
          <span class="n">{stats.inFlight}</span>
          <span class="label">attempts in flight</span>
        </span>
      </li>
    </ul>
  );
}

function QueueRow({ q }: { q: Queue }) {
  const form = `qf-${q.name}`;
  const path = `/v1/queues/${encodeURIComponent(q.name)}`;
  return (
    <tr>
      <th scope="row">
        <a href={`/tasks?queue=${encodeURIComponent(q.name)}`}>{q.name}</a>
      </th>
      <td class="num">{q.counts.pending ?? 0}</td>
      <td class="num">{q.counts.running ?? 0}</td>
      <td class="num">{q.counts.completed ?? 0}</td>
      <td class="num">{q.counts.failed ?? 0}</td>
      <td class="num">{q.counts.cancelled ?? 0}</td>
      <td>
        <input form={form} name="concurrency" type="number" min="1" max="100000" step="1" inputmode="numeric" value={q.concurrency ?? ''} placeholder="global" aria-label={`Concurrency of ${q.name} (empty: global limit only)`} />
      </td>
      <td>
        <input form={form} name="ratePerSecond" type="number" min="0.001" step="any" inputmode="decimal" value={q.ratePerSecond ?? ''} placeholder="none" aria-label={`Rate limit of ${q.name} in dispatches per second (empty: none)`} />
      </td>
      <td>
        <input form={form} name="keyConcurrency" type="number" min="1" max="100000" step="1" inputmode="numeric" value={q.keyConcurrency ?? ''} placeholder="none" aria-label={`Attempts in flight per concurrency key of ${q.name} (empty: no per-key limit)`} />
      </td>
      <td>{q.paused ? <span class="badge s-paused">paused</span> : <span class="badge s-active">active</span>}</td>
      <td class="actions">
        <form id={form} data-queue-form={path}>
          <button type="submit">Save</button>
        </form>
        <button type="button" data-api-method="PUT" data-api-path={path} data-api-body={JSON.stringify({ paused: !q.paused })} aria-label={`${q.paused ? 'Resume' : 'Pause'} ${q.name}`}>
          {q.paused ? 'Resume' : 'Pause'}
        </button>
      </td>
    </tr>
  );
}

export function QueueTable({ queues }: { queues: Queue[] }) {
  if (queues.length === 0) return <Notice kind="empty">No queues yet: a queue is created by its first task.</Notice>;
  return (
    <DataTable class="queues" caption="Queues: tasks by state, limits and pause"
      columns={['Queue', { num: 'Pending' }, { num: 'In flight' }, { num: 'Completed' }, { num: 'Failed' }, { num: 'Cancelled' }, 'Concurrency', 'Rate /s', 'Per key', 'State', { actions: true }]}>
      {queues.map((q) => (
        <QueueRow q={q} />
      ))}
    </DataTable>
  );
}

export function NodeTable({ nodes }: { nodes: ClusterNodeView[] }) {
  if (nodes.length === 0) return <Notice kind="empty">No node has reported yet.</Notice>;
  return (
    <DataTable class="nodes" caption="Nodes sharing this database: state, last heartbeat, attempts in flight" columns={['Node', 'Id', 'State', 'Heartbeat', { num: 'In flight' }, 'Started']}>
      {nodes.map((n) => (
        <tr>
          <th scope="row">{n.name}</th>
          <td>
            <code>{n.id}</code>
          </td>
          <td>{!n.alive ? <span class="badge s-failed">dead</span> : n.leader ? <span class="badge s-completed">leader</span> : <span class="badge s-active">alive</span>}</td>
          <td>
            <time datetime={n.heartbeatAt}>{n.heartbeatAt}</time>
          </td>
          <td class="num">{n.inFlight}</td>
          <td>
            <time datetime={n.startedAt}>{n.startedAt}</time>
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

export function Overview({ stats, queues, nodes }: { stats: Stats; queues: Queue[]; nodes?: ClusterNodeView[] }) {
  return (
    <>
      <h1>Overview</h1>
      <section id="r-counts" data-region aria-labelledby="h-counts">
        <h2 id="h-counts" class="sr-only">
          Tasks by state
        </h2>
        <Counts stats={stats} />
      </section>
      <section id="r-chart" data-region aria-labelledby="h-chart">
        <h2 id="h-chart">Dispatches and failures</h2>
        <Chart perMinute={stats.perMinute} />
      </section>
      <section id="r-queues" data-region aria-labelledby="h-queues">
        <h2 id="h-queues">Queues</h2>
        <QueueTable queues={queues} />
      </section>
      {nodes ? (
        <section id="r-nodes" data-region aria-labelledby="h-nodes">
          <h2 id="h-nodes">Nodes</h2>
          <NodeTable nodes={nodes} />
        </section>
      ) : null}
    </>
  );
}
