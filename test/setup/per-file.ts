// Per test file: drops the PostgreSQL database the file used, if any (test/helpers/postgres.ts).
import { afterAll } from 'vitest';
import { dropFileDatabases } from '../helpers/postgres.js';

afterAll(async () => {
  await dropFileDatabases();
});
