// Reads the Avro schema sources of truth from schemas/*.avsc.
import { readFileSync } from 'node:fs';
import { fromPackageRoot } from './package-root.js';

export const SCHEMA_FILES = {
  orderEvent: 'order-event.avsc',
  riskChange: 'risk-change.avsc',
  deadLetter: 'dead-letter.avsc',
} as const;

export type SchemaName = keyof typeof SCHEMA_FILES;

/** Returns the schema file's text exactly as written (what gets registered). */
export function readSchemaText(name: SchemaName): string {
  return readFileSync(fromPackageRoot('schemas', SCHEMA_FILES[name]), 'utf8');
}
