// Option parsers shared by the CLI's commands: a bad value is commander's usage error (exit 2).
import { InvalidArgumentError } from 'commander';

export const positiveInt = (name: string) => (value: string) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return parsed;
};
