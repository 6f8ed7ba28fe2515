// Locates files shipped with the package (schemas/, models/, Lua scripts) the same
// way from src/ under tsx/vitest and from dist/ after a build: both sit two folders
// below the package root.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));

export function fromPackageRoot(...segments: string[]): string {
  return [packageRoot.replace(/\/$/, ''), ...segments].join('/');
}

/** The package's own version (package.json), e.g. for records that name their producer. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(fromPackageRoot('package.json'), 'utf8')) as { version: string }).version;
}
