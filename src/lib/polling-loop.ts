/**
 * The run loop of a background worker: runs `pass` again and again until stopped, sleeping for the
 * poll interval after a pass that found nothing to do (or failed). Workers compose it.
 */
export class PollingLoop {
  readonly #pass: () => Promise<boolean>;
  readonly #pollMs: number;
  readonly #onError: (error: unknown) => void;
  #loop: Promise<void> | undefined;
  #stopping = false;
  #woken = false;
  #wake: (() => void) | undefined;

  /** `pass` resolves true when it did work (so the next one starts at once). */
  constructor(pass: () => Promise<boolean>, pollMs: number, onError: (error: unknown) => void) {
    this.#pass = pass;
    this.#pollMs = pollMs;
    this.#onError = onError;
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  start(): void {
    if (this.#loop) return;
    this.#stopping = false;
    this.#loop = this.#run();
  }

  /** Ends the loop after the pass in progress. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.wake();
    await this.#loop;
    this.#loop = undefined;
  }

  /** Cuts the current sleep short, or skips the next one when a pass is running: new work may be due. */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      const busy = await this.#pass().catch((error: unknown) => {
        this.#onError(error);
        return false;
      });
      if (!busy && !this.#woken && !this.#stopping) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.#pollMs);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      this.#woken = false;
      this.#wake = undefined;
    }
  }
}
