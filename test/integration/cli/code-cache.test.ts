import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '../../..');

/** Loads `file` through the code cache in a fresh process (the cache is written when it exits). */
function loadInChild(file: string): Promise<string> {
  const script = `const { requireWithCodeCache } = require('./src/code-cache');
    process.stdout.write(JSON.stringify(requireWithCodeCache(${JSON.stringify(file)})));`;
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', '--eval', script],
      { cwd: ROOT, timeout: 60_000 },
      (err, out, e) => (err ? reject(new Error(`${err.message}\n${e}`)) : resolve(out)),
    ),
  );
}

describe('the CLI bundle’s code cache', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'code-cache-'));
    file = join(dir, 'bundle.js');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('when the bundle is rebuilt with contents of the same length', () => {
    it('runs the new contents, not the code cached for the old ones', async () => {
      writeFileSync(file, `module.exports = { answer: 'old', dir: __dirname };`);
      expect(JSON.parse(await loadInChild(file))).toEqual({ answer: 'old', dir });
      expect(existsSync(`${file}.cache`)).toBe(true);
      expect(JSON.parse(await loadInChild(file))).toEqual({ answer: 'old', dir });

      writeFileSync(file, `module.exports = { answer: 'new', dir: __dirname };`);
      expect(JSON.parse(await loadInChild(file))).toEqual({ answer: 'new', dir });
    });
  });

  describe('when the cache is damaged', () => {
    it('compiles the bundle as if there were none', async () => {
      writeFileSync(file, `module.exports = { answer: 42 };`);
      await loadInChild(file);
      writeFileSync(`${file}.cache`, 'not a code cache');
      expect(JSON.parse(await loadInChild(file))).toEqual({ answer: 42 });
    });
  });
});
