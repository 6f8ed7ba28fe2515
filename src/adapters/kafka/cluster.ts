// The scorer's administrative view of the cluster (kafkajs admin client): reachability at
// start-up, the group coordinator, topic limits and the group's committed lag. It logs
// nothing itself: waiting for a coordinator that is still loading is expected on a fresh
// cluster, and the caller decides what is worth saying.
import kafkajs, { type Admin, type Kafka, logLevel } from 'kafkajs';
import { calling } from '../dependency-error.js';
import { createKafka, type KafkaOptions } from './client.js';
import { groupLag } from './group-lag.js';

// Not among the names Node detects in kafkajs' CommonJS exports: read from the default export.
const { ConfigResourceTypes } = kafkajs;

/** Kafka's default max.message.bytes (broker and topic), used when a topic does not say. */
const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class KafkaCluster {
  private readonly kafka: Kafka;
  private readonly admin: Admin;

  constructor(options: KafkaOptions) {
    // Few retries per call: the callers loop with their own deadline.
    this.kafka = createKafka(options, {
      logLevel: logLevel.NOTHING,
      retry: { initialRetryTime: 100, retries: 2 },
    });
    this.admin = this.kafka.admin();
  }

  /**
   * Connects and waits until the group's coordinator answers (a fresh cluster creates its
   * offsets topic on the first group lookup and answers "loading" meanwhile). Throws with
   * the last reason once `timeoutMs` has passed.
   */
  async ready(groupId: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown = null;
    for (let wait = 100; Date.now() < deadline; wait = Math.min(wait * 2, 2000)) {
      try {
        await this.admin.connect();
        await this.admin.describeGroups([groupId]);
        return;
      } catch (error) {
        last = error;
        await sleep(Math.min(wait, Math.max(0, deadline - Date.now())));
      }
    }
    throw new Error(`not ready after ${Math.round(timeoutMs / 1000)} s: ${describe(last)}`);
  }

  /** The largest record the broker accepts on `topic` (its max.message.bytes). */
  maxMessageBytes(topic: string): Promise<number> {
    return calling('kafka', async () => {
      const described = await this.admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] }],
      });
      const entry = described.resources[0]?.configEntries.find((e) => e.configName === 'max.message.bytes');
      const value = Number(entry?.configValue);
      return Number.isFinite(value) && value > 0 ? value : DEFAULT_MAX_MESSAGE_BYTES;
    });
  }

  /** Committed lag per partition of `topic` for `groupId` (owned or not). */
  groupLag(groupId: string, topic: string): Promise<Map<number, number>> {
    return calling('kafka', () => groupLag(this.admin, groupId, topic));
  }

  async disconnect(): Promise<void> {
    await this.admin.disconnect();
  }
}

function describe(error: unknown): string {
  if (error === null) return 'no attempt finished';
  return error instanceof Error ? error.message : String(error);
}
