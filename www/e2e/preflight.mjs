// `npm run e2e` runs the SPA against the real local stack. Without its binary the run must fail
// loudly (not pass with nothing tested).
import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';

const bin = process.env.TODO_LOCAL_BIN ?? resolve(import.meta.dirname, '../../target/debug/todo-local');
try {
  accessSync(bin, constants.X_OK);
} catch {
  console.error(
    `e2e: the local stack binary ${bin} does not exist (or is not executable).\n` +
      'Build it first from the workspace root: cargo build -p todo-local\n' +
      '(or point TODO_LOCAL_BIN at a built todo-local). No end-to-end test was run.',
  );
  process.exit(1);
}
