// Locates files shipped with the package (schemas/, models/, Lua scripts) the same
// way from src/ under tsx/vitest and from dist/ after a build: both sit two folders
// below the package root.
import { fileURLToPath } from 'node:url';

export const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));

export function fromPackageRoot(...segments: string[]): string {
  return [packageRoot.replace(/\/$/, ''), ...segments].join('/');
}
