// A task run now and then every interval on a timer of its own, never two runs at once (a run
// still going when the next is due is not doubled up). A failure is logged once, when the task
// starts failing, not on every interval of an outage.
export interface Repeating {
  /** No further run; resolves when the one in progress (if any) has ended. */
  stop(): Promise<void>;
}

export function repeat(
  intervalMs: number,
  task: () => Promise<void>,
  log: { warn(context: { err: unknown }, message: string): void },
  /** What the WARN says when the task starts failing. */
  failing: string,
): Repeating {
  let running: Promise<void> | null = null;
  let failed = false;
  const run = () => {
    running ??= task()
      .then(
        () => {
          failed = false;
        },
        (error: unknown) => {
          if (!failed) log.warn({ err: error }, failing);
          failed = true;
        },
      )
      .finally(() => {
        running = null;
      });
  };
  run();
  const timer = setInterval(run, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
