// Option parsers shared by the CLI's commands: a bad value is commander's usage error (exit 2).
import { InvalidArgumentError } from 'commander';

export const positiveInt = (name: string) => (value: string) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return parsed;
};

/** A comma-separated list of distinct positive integers, e.g. `90,180,365`. */
export const positiveIntList = (name: string) => (value: string) => {
  const parsed = value.split(',').map((part) => Number(part.trim()));
  if (parsed.length === 0 || parsed.some((n) => !Number.isInteger(n) || n <= 0))
    throw new InvalidArgumentError(`${name} must be positive integers separated by commas`);
  if (new Set(parsed).size !== parsed.length) throw new InvalidArgumentError(`${name} lists a value twice`);
  return parsed;
};
