// Readiness probe for the native broker: a real client round trip, not an open port.
// Succeeds once kafkajs can read cluster metadata and create (or find) a probe topic
// with a leader, which needs the KRaft controller and the broker to be fully up.
// Usage: node kafka-ready.mjs <host:port> <timeoutSeconds>
import { Kafka, logLevel } from 'kafkajs';

const [broker = '127.0.0.1:19092', timeoutArg = '90'] = process.argv.slice(2);
const deadline = Date.now() + Number(timeoutArg) * 1000;
const probeTopic = '__churnstream_stack_ready';

async function probeOnce() {
  const kafka = new Kafka({
    clientId: 'churnstream-stack-probe',
    brokers: [broker],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) throw new Error('no brokers in metadata');
    const existing = await admin.listTopics();
    if (!existing.includes(probeTopic)) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: probeTopic, numPartitions: 1, replicationFactor: 1 }],
      });
    }
    const meta = await admin.fetchTopicMetadata({ topics: [probeTopic] });
    const leader = meta.topics[0]?.partitions[0]?.leader;
    if (leader === undefined || leader < 0) throw new Error('probe topic has no leader yet');
    return cluster;
  } finally {
    await admin.disconnect();
  }
}

let lastError = 'not tried';
while (Date.now() < deadline) {
  try {
    const cluster = await probeOnce();
    console.log(`kafka ready: cluster ${cluster.clusterId}, controller ${cluster.controller}`);
    process.exit(0);
  } catch (error) {
    lastError = error instanceof Error ? error.message : String(error);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
console.error(`kafka not ready after ${timeoutArg}s: ${lastError}`);
process.exit(1);
