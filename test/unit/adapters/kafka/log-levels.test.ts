// kafkajs logs broker answers it retries by itself (a coordinator still loading on a fresh
// broker, a moved coordinator, a rebalance) at ERROR; they reach our log as WARN. Other
// errors stay ERROR.
import { describe, expect, it } from 'vitest';
import { createKafka, type KafkaLogSink } from '../../../../src/adapters/kafka/client.js';

function logged(error: string): string[] {
  const levels: string[] = [];
  const sink: KafkaLogSink = (level) => levels.push(level);
  createKafka({ brokers: ['127.0.0.1:1'], clientId: 't', ssl: null, sasl: null }, {}, sink)
    .logger()
    .error('Response InitProducerId(key: 22, version: 1)', { error });
  return levels;
}

describe('kafkajs log levels', () => {
  it.each([
    "The coordinator is loading and hence can't process requests for this group",
    'This is not the correct coordinator for this group',
    'The coordinator is not available',
    'The group is rebalancing, so a rejoin is needed',
  ])('%s: WARN (kafkajs retries it)', (error) => {
    expect(logged(error)).toEqual(['warn']);
  });

  it('any other error stays ERROR', () => {
    expect(logged('The request attempted to perform an operation on an invalid topic')).toEqual(['error']);
    expect(logged('')).toEqual(['error']);
  });
});
