import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { compiledCli } from './compiled.js';

const root = path.resolve(import.meta.dirname, '../..');

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

export type CliProcess = ChildProcess & { result: Promise<Result>; stdoutSoFar: () => string };

/**
 * Runs the CLI from source as a child process, as `inbox ARGS`, with only the variables given, in temporary data
 * directories of its own; every child is killed and every directory removed after the file's tests.
 */
export function cliHarness(prefix: string, logLevel: string) {
  const tempDirs: string[] = [];
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    tempDir(): string {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
      tempDirs.push(dir);
      return dir;
    },
    inbox(args: string[], env: Record<string, string>): CliProcess {
      const child = spawn(process.execPath, [compiledCli(), ...args], {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', LOG_LEVEL: logLevel, ...env },
      });
      children.push(child);
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d) => (stdout += d));
      child.stderr!.on('data', (d) => (stderr += d));
      const result = new Promise<Result>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
      return Object.assign(child, { result, stdoutSoFar: () => stdout });
    },
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `probe` until it gives a value (errors count as none yet). */
export async function waitFor<T>(probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}
