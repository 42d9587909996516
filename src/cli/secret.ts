// `aq secret`: prints the server's signing secret (what targets and webhook receivers verify
// with); `aq secret --new` prints a fresh one for --signing-secret without asking any server.
import { Command } from 'commander';
import { generateSecret } from '../shared/signing.js';
import { contextOf, printJson, withGlobals } from './context.js';
import { Output } from './format.js';

export function registerSecret(program: Command): void {
  const cmd = program
    .command('secret')
    .description("print the server's signing secret (whsec_…), or with --new a fresh one for --signing-secret")
    .option('--new', 'print a new random secret (nothing is changed on any server)')
    .addHelpText(
      'after',
      `
Examples:
  $ aq secret                                     # the running server's secret, for your receivers
  $ aq serve --signing-secret "$(aq secret --new)" # start a server with a secret of your own`,
    );
  withGlobals(cmd).action(async (flags: { new?: boolean }, command: Command) => {
    if (flags.new) {
      const secret = generateSecret();
      const out = new Output();
      out.line(command.optsWithGlobals<{ json?: boolean }>().json ? JSON.stringify({ secret }) : secret);
      return;
    }
    const ctx = contextOf(command);
    const answer = await ctx.aq.signingSecret();
    if (ctx.json) return printJson(ctx, answer);
    ctx.out.line(answer.secret);
  });
}
