import { readFile } from 'node:fs/promises';
import { AppError } from '../core/errors.js';
import { parseScenario, simulate } from '../runtimes/simulation.js';

/** `inbox simulate FILE`: the scenario's run in virtual time, as JSON lines on stdout. */
export async function simulateFile(file: string): Promise<void> {
  const text = await readFile(file, 'utf8').catch((error: Error) => {
    throw new AppError(400, 'SCENARIO_UNREADABLE', `Cannot read ${file}: ${error.message}`);
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AppError(400, 'VALIDATION_ERROR', `${file} is not JSON: ${(error as Error).message}`);
  }
  await simulate(parseScenario(json), (line) => process.stdout.write(`${line}\n`));
}
