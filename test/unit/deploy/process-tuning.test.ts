import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROCESS_ENV } from '../../../src/process-tuning';

const ROOT = join(__dirname, '../../..');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const stages = dockerfile.split(/^FROM /m).slice(1);
const stage = (name: string) => stages.find((s) => s.split('\n', 1)[0]!.endsWith(` AS ${name}`)) ?? '';
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};

/** The variables an ENV instruction sets (`ENV A=1 \` continued lines included). */
function envOf(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [, body] of text.matchAll(/^ENV ((?:.*\\\n)*.*)$/gm)) {
    for (const [, k, v] of body!.matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) env[k!] = v!;
  }
  return env;
}

describe('the roles’ process as deployed', () => {
  const assignments = Object.entries(PROCESS_ENV).map(([k, v]) => `${k}=${v}`);

  it('is what npm start runs: node dist/main.js in the environment of process-tuning.ts', () => {
    expect(pkg.scripts.start).toBe([...assignments, 'node dist/main.js'].join(' '));
  });

  it('is what the image runs, in the same environment', () => {
    const runtime = stage('runtime');
    expect(runtime).toMatch(/^ENTRYPOINT \["node", "dist\/main\.js"\]$/m);
    expect(envOf(runtime)).toMatchObject(PROCESS_ENV);
  });

  it('is built by the image’s build stage, which has what the build reads', () => {
    const build = stage('build');
    expect(build).toMatch(/^RUN npm run build$/m);
    for (const dir of ['src', 'commands', 'jobs', 'scripts'])
      expect(build).toMatch(new RegExp(`^COPY ${dir} `, 'm'));
  });
});
