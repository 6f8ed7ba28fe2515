import { Command } from 'commander';
import { deadLettersCommand } from '../src/app/commands/dead-letters.js';
import { USER_ERROR_EXIT_CODE, UserError } from '../src/app/user-error.js';
const program = new Command().name('churnstream').showHelpAfterError();
program.addCommand(deadLettersCommand());
program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof UserError) { console.error(error.message); process.exit(USER_ERROR_EXIT_CODE); }
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error)); process.exit(1);
});
