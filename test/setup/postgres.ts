// Global setup: a PostgreSQL server for the suites that run on both stores. Uses
// AQ_TEST_PG_URL when set (an admin URL; each test file gets its own database on it), else
// starts a throw-away cluster when PostgreSQL is installed, else fails under CI and skips the
// PostgreSQL runs elsewhere, saying how to install it. Runs once for all projects.
import type { TestProject } from 'vitest/node';
// @ts-expect-error a plain ESM script without type declarations
import { findPgBin, startTempCluster } from '../../scripts/pg-temp.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the test PostgreSQL server; '' when there is none (PostgreSQL tests skip). */
    pgUrl: string;
  }
}

const INSTALL = 'install PostgreSQL (Debian/Ubuntu: apt-get install postgresql) or set AQ_TEST_PG_URL=postgres://user@host:port/db';

let started: Promise<{ url: string; stop?: () => void }> | undefined;
let users = 0;

async function start(): Promise<{ url: string; stop?: () => void }> {
  const given = process.env.AQ_TEST_PG_URL;
  if (given) return { url: given };
  if (!findPgBin()) {
    if (process.env.CI) throw new Error(`CI needs PostgreSQL for the PostgreSQL test runs: ${INSTALL}`);
    process.stdout.write(`\n  PostgreSQL runs skipped: ${INSTALL}\n\n`);
    return { url: '' };
  }
  const cluster = await startTempCluster();
  return { url: cluster.url, stop: cluster.stop };
}

export default async function setup(project: TestProject) {
  started ??= start();
  users++;
  const { url } = await started;
  project.provide('pgUrl', url);
  return async () => {
    if (--users > 0) return;
    const s = await started;
    started = undefined;
    s?.stop?.();
  };
}
