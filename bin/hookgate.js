#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx hookgate` works from a checkout without a build.
import { register } from 'tsx/esm/api';

register();
const { main, CliError } = await import('../cli/hookgate.ts');
try {
  process.exitCode = await main(process.argv.slice(2), { out: (line) => console.log(line) });
} catch (err) {
  if (err instanceof CliError) {
    console.error(`hookgate: ${err.message}`);
    process.exitCode = err.exitCode;
  } else {
    console.error(`hookgate: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
