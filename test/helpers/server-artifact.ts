import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildServer } from '../../scripts/server-bundle';

const ROOT = join(__dirname, '../..');

export interface ServerArtifact {
  /** `node <entry> <role>` starts a role as the image does. */
  entry: string;
  bundle: string;
  /** The files bundled, relative to the project (node_modules/… for packages). */
  inputs: string[];
  remove(): void;
}

/**
 * The roles' process built as `npm run build:server` builds it, from the sources as they are, in a
 * directory of its own under dist/ (the bundle's packages resolve from the project's node_modules).
 */
export async function buildServerArtifact(): Promise<ServerArtifact> {
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, 'dist', 'artifact-'));
  const inputs = await buildServer(dir);
  return {
    inputs,
    entry: join(dir, 'main.js'),
    bundle: join(dir, 'main.bundle.js'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
