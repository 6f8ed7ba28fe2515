// The native stack's schema registry keeps its schemas in PostgreSQL (scripts/stack.sh):
// after `scripts/stack.sh restart schema-registry` the same subjects, versions and ids are
// served, and new schemas get new ids (the id sequence does not start over).
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { stackEnv, uniqueSuffix } from '../helpers/stack.js';

const stackScript = new URL('../../scripts/stack.sh', import.meta.url).pathname;
// The registry that stack.sh restarts, whatever SCHEMA_REGISTRY_URL says.
const registryUrl = `http://${stackEnv['STACK_HOST']}:${stackEnv['SCHEMA_REGISTRY_PORT']}`;
const contentType = 'application/vnd.schemaregistry.v1+json';

interface SubjectVersion {
  readonly subject: string;
  readonly version: number;
  readonly id: number;
  readonly schema: string;
}

async function call<T>(path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${registryUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': contentType, accept: contentType },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

const register = (subject: string, schema: object) =>
  call<{ id: number }>(`/subjects/${encodeURIComponent(subject)}/versions`, { schema: JSON.stringify(schema) });
const latest = (subject: string) => call<SubjectVersion>(`/subjects/${encodeURIComponent(subject)}/versions/latest`);

/** A record type no earlier run registered, so the registry must give it a fresh id. */
const freshSchema = (name: string, withNote = false) => ({
  type: 'record',
  name,
  namespace: 'io.churnstream.test',
  fields: [
    { name: 'customer_id', type: 'string' },
    // A later version adds an optional field (BACKWARD compatible).
    ...(withNote ? [{ name: 'note', type: ['null', 'string'], default: null }] : []),
  ],
});

const registryPid = (): string | undefined => {
  const status = spawnSync('bash', [stackScript, 'status'], { encoding: 'utf8' }).stdout;
  return /^schema-registry\s+running\s+pid\s+(\d+)/m.exec(status)?.[1];
};

async function waitForRegistry(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await call<string[]>('/subjects');
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

describe('native schema registry across a restart (real)', () => {
  it('serves the same ids, subjects and versions after `stack.sh restart schema-registry`', async () => {
    const suffix = uniqueSuffix().replaceAll('-', '_');
    const subject = `test.registry-restart.${suffix}-value`;
    const schema = freshSchema(`Restart_${suffix}`);
    const { id } = await register(subject, schema);
    const before = await latest(subject);
    expect(before).toMatchObject({ subject, version: 1, id });

    const pidBefore = registryPid();
    expect(pidBefore).toBeDefined();
    execFileSync('bash', [stackScript, 'restart', 'schema-registry'], { stdio: 'pipe' });
    await waitForRegistry(30_000);
    expect(registryPid()).toBeDefined();
    expect(registryPid()).not.toBe(pidBefore);

    const byId = await call<{ schema: string }>(`/schemas/ids/${id}`);
    expect(JSON.parse(byId.schema)).toEqual(schema);
    expect(await call<string[]>('/subjects')).toContain(subject);
    expect(await call<number[]>(`/subjects/${encodeURIComponent(subject)}/versions`)).toEqual([1]);
    expect(await latest(subject)).toEqual(before);
    // Registering the same schema again finds it; a new one gets an id after every earlier one.
    expect((await register(subject, schema)).id).toBe(id);
    const next = await register(subject, freshSchema(`Restart_${suffix}`, true));
    expect(next.id).toBeGreaterThan(id);
    expect(await latest(subject)).toMatchObject({ version: 2, id: next.id });
  }, 120_000);
});
