import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { DataDirLockedError, lockDataDir } from '../src/store/lock.js';

const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-lock-'));
  onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
};
const lockFile = (dir: string) => path.join(dir, 'inbox.lock');
const startTimeOf = (pid: number) => {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
};
const bootId = () => fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

function liveProcess(): ChildProcess {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  onTestFinished(() => void child.kill());
  return child;
}

describe('data directory lock across PID reuse', () => {
  it('takes over a lock naming this very PID when it was another process with that number (a container restart)', () => {
    const dir = tempDir();
    fs.writeFileSync(lockFile(dir), JSON.stringify({ pid: process.pid, startTime: '1', bootId: bootId() }));
    const release = lockDataDir(dir);
    expect(JSON.parse(fs.readFileSync(lockFile(dir), 'utf8'))).toMatchObject({ pid: process.pid, startTime: startTimeOf(process.pid) });
    // This process holding it for real is a live holder: a second open is refused, naming this process.
    expect(() => lockDataDir(dir)).toThrow(/in use by process \d+ \(this process/);
    release();
  });

  it('takes over a lock whose PID now belongs to an unrelated process, and refuses one its holder still runs under', () => {
    const dir = tempDir();
    const unrelated = liveProcess();
    fs.writeFileSync(lockFile(dir), JSON.stringify({ pid: unrelated.pid, startTime: '1', bootId: bootId() }));
    lockDataDir(dir)();
    // A lock from another boot is stale whatever its PID.
    fs.writeFileSync(lockFile(dir), JSON.stringify({ pid: unrelated.pid, startTime: startTimeOf(unrelated.pid!), bootId: 'another-boot' }));
    lockDataDir(dir)();
    // The same PID with its real start time in this boot is the holder itself, alive.
    fs.writeFileSync(lockFile(dir), JSON.stringify({ pid: unrelated.pid, startTime: startTimeOf(unrelated.pid!), bootId: bootId() }));
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    // Older versions wrote the bare PID: a live one is still respected.
    fs.writeFileSync(lockFile(dir), String(unrelated.pid));
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
  });

  it('lets exactly one of three processes racing over a stale lock win', async () => {
    const dir = tempDir();
    const outcomes: string[] = [];
    for (let round = 0; round < 3; round++) {
      fs.writeFileSync(lockFile(dir), JSON.stringify({ pid: 999_999_999, startTime: '1', bootId: bootId() }));
      // Each contender waits for the same moment, tries once, and holds what it won until the others have tried.
      const at = Date.now() + 1_500;
      const script = `
        import { lockDataDir } from ${JSON.stringify(path.resolve('src/store/lock.ts'))};
        while (Date.now() < ${at}) {}
        let outcome;
        try { lockDataDir(${JSON.stringify(dir)}); outcome = 'won'; } catch (e) { outcome = e.name; }
        console.log(outcome);
        setTimeout(() => process.exit(0), 1500);`;
      const runs = Array.from({ length: 3 }, () => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
        return new Promise<string>((resolve) => child.on('close', () => resolve(out.trim())));
      });
      const results = await Promise.all(runs);
      outcomes.push(results.sort().join(','));
      expect(results.filter((r) => r === 'won'), results.join(',')).toHaveLength(1);
      expect(results.filter((r) => r === 'DataDirLockedError')).toHaveLength(2);
    }
    expect(outcomes).toHaveLength(3);
  }, 30_000);
});
