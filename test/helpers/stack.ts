// Connection settings of the real test stack (scripts/stack/stack.env), and unique
// names so that test runs never see each other's topics, groups or keys.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { type Config, loadConfig } from '../../src/app/config.js';

const stackEnvPath = new URL('../../scripts/stack/stack.env', import.meta.url);

export const stackEnv: Readonly<Record<string, string>> = parseEnv(readFileSync(stackEnvPath, 'utf8')) as Record<
  string,
  string
>;

export const uniqueSuffix = (): string => `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

/** Config for the native stack with topics/group renamed for one test file. */
export function testConfig(label: string, env: NodeJS.ProcessEnv = process.env): Config {
  const suffix = `${label}-${uniqueSuffix()}`;
  return loadConfig({
    ...env,
    CHURNSTREAM_ORDERS_TOPIC: `test.${suffix}.orders`,
    CHURNSTREAM_RISK_TOPIC: `test.${suffix}.risk-changes`,
    CHURNSTREAM_DEAD_LETTER_TOPIC: `test.${suffix}.dead-letters`,
    CHURNSTREAM_GROUP_ID: `test.${suffix}`,
    CHURNSTREAM_PARTITIONS: '3',
    CHURNSTREAM_REDIS_NAMESPACE: `test-${suffix}`,
  });
}
