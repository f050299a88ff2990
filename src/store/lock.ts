import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holderPid: number,
  ) {
    super(
      `The data directory ${dataDir} is in use by process ${holderPid}${holderPid === process.pid ? ' (this process: the store is open already)' : ''}. ` +
        'Only one process may open the embedded store at a time: stop that process, ' +
        'or use DATABASE_URL=postgres://... to share a PostgreSQL server between processes.',
    );
    this.name = 'DataDirLockedError';
  }
}

/**
 * Who holds a lock: a PID alone is not enough, as PIDs are reused (a container's PID 1 after a restart on a
 * persistent volume is the same number as the one that crashed). On Linux the process's start time (clock ticks
 * since boot) and the boot id tell that very process from any later one with its number.
 */
interface Holder {
  pid: number;
  /** field 22 of /proc/PID/stat; null where /proc is not there */
  startTime: string | null;
  bootId: string | null;
}

function readOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function startTimeOf(pid: number): string | null {
  const stat = readOrNull(`/proc/${pid}/stat`);
  // The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
  return stat ? (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null) : null;
}

const bootId = () => readOrNull('/proc/sys/kernel/random/boot_id')?.trim() ?? null;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const identityOf = (pid: number): Holder => ({ pid, startTime: startTimeOf(pid), bootId: bootId() });

/** A lock file's holder: JSON, or the bare PID older versions wrote. */
function parseHolder(text: string): Holder | null {
  try {
    const value = JSON.parse(text) as Partial<Holder>;
    if (typeof value === 'number') return { pid: value, startTime: null, bootId: null };
    return Number.isInteger(value.pid) ? { pid: value.pid!, startTime: value.startTime ?? null, bootId: value.bootId ?? null } : null;
  } catch {
    return null;
  }
}

/** Whether the process that wrote `holder` still runs: alive, in this boot, and started when it was then. */
function isRunning(holder: Holder): boolean {
  if (!isAlive(holder.pid)) return false;
  const now = identityOf(holder.pid);
  if (holder.bootId && now.bootId && holder.bootId !== now.bootId) return false;
  if (holder.startTime && now.startTime && holder.startTime !== now.startTime) return false;
  return true;
}

/** Creates `file` holding `content` only if it does not exist (O_EXCL): false when it does. */
function createExclusive(file: string, content: string): boolean {
  try {
    fs.writeFileSync(file, content, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Removes the lock file if it still holds `stale`, under a takeover guard (its own O_EXCL file), so that of
 * processes racing over one stale lock only one removes it and none removes the lock a winner has just written.
 * A guard left by a process that died while taking over is itself stale and removed the same way.
 */
function removeIfStill(lockPath: string, stale: string): void {
  const guardPath = `${lockPath}.takeover`;
  const me = JSON.stringify(identityOf(process.pid));
  if (!createExclusive(guardPath, me)) {
    const guard = readOrNull(guardPath);
    const guardHolder = guard === null ? null : parseHolder(guard);
    // Someone is taking over right now (or has created the guard and not yet written it): let them finish, then
    // look again. Only a guard whose holder no longer runs, or one left empty for a second, is stale.
    const beingWritten = guard !== null && guardHolder === null && Date.now() - (fs.statSync(guardPath, { throwIfNoEntry: false })?.mtimeMs ?? 0) < 1000;
    if ((guardHolder && isRunning(guardHolder)) || beingWritten) return void sleep(20);
    if (guard !== null && readOrNull(guardPath) === guard) fs.rmSync(guardPath, { force: true });
    return;
  }
  try {
    if (readOrNull(lockPath) === stale) fs.rmSync(lockPath, { force: true });
  } finally {
    fs.rmSync(guardPath, { force: true });
  }
}

/**
 * Takes the exclusive lock on an embedded data directory: a file naming this process (PID, start time, boot id),
 * created with O_EXCL. A lock whose process no longer runs, a reused PID included, is taken over. Returns the
 * function that releases it.
 */
export function lockDataDir(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const lockPath = path.join(dataDir, 'inbox.lock');
  // A nonce makes this holding's content unique, so release never removes a later holder's lock.
  const content = JSON.stringify({ ...identityOf(process.pid), nonce: randomBytes(8).toString('hex') });
  for (let attempt = 0; attempt < 200; attempt++) {
    if (createExclusive(lockPath, content)) {
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        if (readOrNull(lockPath) === content) fs.rmSync(lockPath, { force: true });
      };
      process.once('exit', release);
      return release;
    }
    const text = readOrNull(lockPath);
    if (text === null) continue; // released meanwhile
    const holder = parseHolder(text);
    if (holder && isRunning(holder)) throw new DataDirLockedError(dataDir, holder.pid);
    removeIfStill(lockPath, text);
  }
  throw new Error(`Could not take the lock on ${dataDir}`);
}
