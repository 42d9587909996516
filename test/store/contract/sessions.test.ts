// Ended dashboard sessions (logout) on both stores: an ended id stays ended until its expiry,
// other ids are untouched, two stores on one database (two nodes) agree, and expired records
// are dropped by later logouts.
import { describe, expect, it } from 'vitest';
import { PostgresStore } from '../../../src/store/postgres/index.js';
import { freshPgUrl } from '../../helpers/postgres.js';
import { kind, openStore, T0 } from './stores.js';

describe('ended dashboard sessions', () => {
  it('an ended session is reported ended, another is not, and a second end is harmless', async () => {
    const store = await openStore();
    expect(await store.isSessionRevoked('s1')).toBe(false);
    await store.revokeSession('s1', T0 + 3600_000, T0);
    await store.revokeSession('s1', T0 + 3600_000, T0);
    expect(await store.isSessionRevoked('s1')).toBe(true);
    expect(await store.isSessionRevoked('s2')).toBe(false);
  });

  it('records of sessions past their expiry are dropped by a later logout', async () => {
    const store = await openStore();
    await store.revokeSession('old', T0 + 1000, T0);
    await store.revokeSession('new', T0 + 9000, T0 + 2000);
    expect([await store.isSessionRevoked('old'), await store.isSessionRevoked('new')]).toEqual([false, true]);
  });

  it.skipIf(kind !== 'postgres')('a logout on one node ends the session on another node of the same database', async () => {
    const url = await freshPgUrl();
    const a = await PostgresStore.open({ url, dbTime: false, nodeId: 'node-a' });
    const b = await PostgresStore.open({ url, dbTime: false, nodeId: 'node-b' });
    try {
      await a.revokeSession('shared', T0 + 3600_000, T0);
      expect(await b.isSessionRevoked('shared')).toBe(true);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
