import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const WWW_DIR = resolve(import.meta.dirname, '../..');
const LISTENING = /todo-local listening on (http:\/\/127\.0\.0\.1:\d+)/;

export interface LocalStack {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts `todo-local --port 0 --data-dir <fresh temp dir> --www-dir dist` (cwd www/) and learns
 * its port from the line it prints. Fails with a clear message when the binary is missing.
 */
export async function startLocalStack(timeoutMs = 60_000): Promise<LocalStack> {
  const bin = process.env.TODO_LOCAL_BIN ?? resolve(WWW_DIR, '../target/debug/todo-local');
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new Error(`The local stack binary ${bin} does not exist: build it with \`cargo build -p todo-local\` first.`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'todo-e2e-'));
  const child = spawn(bin, ['--port', '0', '--data-dir', dataDir, '--www-dir', 'dist'], {
    cwd: WWW_DIR,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info' },
  });

  // Keep draining both pipes (a full pipe would block the server) and keep the tail for errors.
  let output = '';
  const remember = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stderr?.on('data', remember);

  const url = await new Promise<string>((resolveUrl, reject) => {
    let stdout = '';
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`todo-local did not say it was listening within ${timeoutMs} ms`)), timeoutMs);
    function fail(error: Error) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
      reject(new Error(`${error.message}\n--- todo-local output ---\n${output}`));
    }
    child.stdout?.on('data', (chunk: Buffer) => {
      remember(chunk);
      if (settled) return;
      stdout += chunk.toString();
      const match = LISTENING.exec(stdout);
      if (match) {
        settled = true;
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    });
    child.once('error', (error) => fail(error));
    child.once('exit', (code, signal) => fail(new Error(`todo-local exited early (code ${code}, signal ${signal})`)));
  });

  return {
    url,
    stop: async () => {
      await stopProcess(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const timeout = new Promise<'timeout'>((done) => setTimeout(() => done('timeout'), 5_000));
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}
