// The one error adapters throw when a dependency (Kafka, Redis, the schema registry) did
// not answer as it should: down, slow, refusing, or not yet consistent. The app treats it
// as transient (pause, back off, retry) and never as a reason to dead-letter a record.

export type Dependency = 'kafka' | 'redis' | 'registry';

export class DependencyError extends Error {
  override readonly name = 'DependencyError';
  readonly dependency: Dependency;

  constructor(dependency: Dependency, message: string, options?: { cause?: unknown }) {
    super(`${dependency}: ${message}`, options);
    this.dependency = dependency;
  }
}

/** Runs a dependency call; any failure becomes a DependencyError naming the dependency. */
export async function calling<T>(dependency: Dependency, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof DependencyError) throw error;
    throw new DependencyError(dependency, error instanceof Error ? error.message : String(error), { cause: error });
  }
}
