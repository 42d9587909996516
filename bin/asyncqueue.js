#!/usr/bin/env node
// The `asyncqueue` / `aq` command: a shim over the compiled CLI.
import('../dist/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
