// Two projects: `sqlite` runs every test on SQLite; `postgres` runs the store contract, the
// PostgreSQL-only store tests and the suites whose behaviour the store decides on PostgreSQL
// (AQ_TEST_STORE=postgres, read by test/helpers). PostgreSQL comes from test/setup/postgres.ts;
// without it (and outside CI) the postgres project is left out, with a line saying how to get it.
import { defineConfig } from 'vitest/config';
// @ts-expect-error a plain ESM script without type declarations
import { findPgBin } from './scripts/pg-temp.mjs';

const POSTGRES_SUITES = [
  'test/store/contract/**/*.test.ts',
  'test/store/postgres.*.test.ts',
  'test/api/**/*.test.ts',
  'test/e2e/**/*.test.ts',
  'test/schedules/schedules.e2e.test.ts',
  'test/dev/clock.virtual.test.ts',
  'test/dev/transfer.cli.test.ts',
  'examples/testing/*.test.ts',
  'test/qstash/**/*.test.ts',
  // several spawned nodes on one database (api.md §9): PostgreSQL only, never skipped there
  'test/cluster/**/*.pg.test.ts',
];

const withPostgres = Boolean(process.env.AQ_TEST_PG_URL || process.env.CI || findPgBin());
if (!withPostgres) {
  process.stdout.write('PostgreSQL is not installed: the postgres test project is skipped (Debian/Ubuntu: apt-get install postgresql, or set AQ_TEST_PG_URL)\n');
}

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: ['default'],
    // postgres.ts: the PostgreSQL server of the postgres project; worktree-clean.ts fails the run
    // if a test wrote into the working copy.
    globalSetup: ['test/setup/postgres.ts', 'test/setup/worktree-clean.ts'],
    // per-file.ts: drops the file's PostgreSQL databases; leaks.ts fails a file that leaves a
    // server, socket, timer or child process behind.
    setupFiles: ['test/setup/leaks.ts', 'test/setup/per-file.ts'],
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts', 'examples/**/*.test.ts'], exclude: ['test/store/postgres.*.test.ts', 'test/cluster/**'] } },
      ...(withPostgres ? [{ extends: true, test: { name: 'postgres', include: POSTGRES_SUITES, env: { AQ_TEST_STORE: 'postgres' } } }] : []),
    ],
  },
});
