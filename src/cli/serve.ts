// Placeholder for the `serve` command until the server engineer's version replaces this file.
import type { Command } from 'commander';

/** Registers `serve` on the program. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the AsyncQueue server (not built yet)')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => {
      process.stderr.write('not built yet\n');
      process.exitCode = 1;
    });
}
