/**
 * `npm run build:server`: the roles' process as deployed, `node dist/main.js` (src/entry.ts), its
 * bundle and the bundle's code cache, written with this Node (the image builds it with the
 * runtime's).
 */
import { buildServer } from './server-bundle';

buildServer('dist').catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
