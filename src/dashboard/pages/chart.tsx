// The overview's per-minute chart: dispatches and failures over the last hour as an inline
// SVG drawn on the server (no chart library, no script), with a data table for screen readers.
import type { Stats } from '../../shared/types.js';

const W = 600;
const H = 120;
const SLOT = W / 60;

/** A "nice" axis maximum ≥ n: 1, 2, 5 × 10^k. */
export function niceMax(n: number): number {
  if (n <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

const hhmm = (iso: string) => iso.slice(11, 16);

export function Chart({ perMinute }: { perMinute: Stats['perMinute'] }) {
  const rows = perMinute.slice(-60);
  const top = niceMax(Math.max(1, ...rows.map((r) => Math.max(r.dispatched, r.failed))));
  const total = rows.reduce((a, r) => ({ d: a.d + r.dispatched, f: a.f + r.failed }), { d: 0, f: 0 });
  const y = (v: number) => H - (v / top) * H;
  const offset = 60 - rows.length;
  return (
    <figure class="chart">
      <figcaption>
        <span class="key k-dispatched" aria-hidden="true"></span> dispatched <strong>{total.d}</strong>
        <span class="key k-failed" aria-hidden="true"></span> failed <strong>{total.f}</strong>
        <span class="muted"> per minute, last hour (UTC)</span>
      </figcaption>
      <div class="plot">
        <span class="ymax" aria-hidden="true">
          {top}
        </span>
        <svg
          viewBox={`0 0 ${W} ${H}`}
          preserveAspectRatio="none"
          role="img"
          aria-label={`Last hour: ${total.d} dispatches and ${total.f} failures; at most ${top} per minute`}
        >
          <line x1="0" y1={H / 2} x2={W} y2={H / 2} class="grid" />
          {rows.map((r, i) => {
            const x = (offset + i) * SLOT;
            return (
              <g>
                <title>{`${hhmm(r.minute)} UTC: ${r.dispatched} dispatched, ${r.completed} completed, ${r.failed} failed`}</title>
                <rect x={x + 1} y={y(r.dispatched)} width={SLOT - 2} height={H - y(r.dispatched)} class="bar-dispatched" />
                <rect x={x + 2.5} y={y(r.failed)} width={SLOT - 5} height={H - y(r.failed)} class="bar-failed" />
              </g>
            );
          })}
        </svg>
      </div>
      <div class="xaxis" aria-hidden="true">
        <span>{rows[0] ? hhmm(rows[0].minute) : ''}</span>
        <span>now</span>
      </div>
      <details class="data">
        <summary>Minutes with activity</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">Minute (UTC)</th>
              <th scope="col">Dispatched</th>
              <th scope="col">Completed</th>
              <th scope="col">Failed</th>
            </tr>
          </thead>
          <tbody>
            {rows
              .filter((r) => r.dispatched + r.completed + r.failed > 0)
              .map((r) => (
                <tr>
                  <td>{hhmm(r.minute)}</td>
                  <td>{r.dispatched}</td>
                  <td>{r.completed}</td>
                  <td>{r.failed}</td>
                </tr>
              ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
