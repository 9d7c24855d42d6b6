import { execFile } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');

export interface LoadedModules {
  /** What the script returned. */
  output: string;
  /** npm packages, by name. */
  packages: string[];
  /** The project's own files, relative to its root. */
  files: string[];
}

/**
 * Runs `script` (CommonJS, from the project root, TypeScript through tsx) in a fresh Node process
 * and answers what it printed and which npm packages and project files it had loaded when it finished: what a
 * process really loads, which Jest's own module registry cannot show.
 */
export function loadedPackages(script: string): Promise<LoadedModules> {
  const probe = `
    Promise.resolve().then(async () => { ${script} }).then(
      (output) => {
        const names = new Set();
        const own = [];
        for (const file of Object.keys(require.cache)) {
          const at = file.lastIndexOf('node_modules/');
          if (at < 0) {
            if (file.startsWith(process.cwd() + '/')) own.push(file.slice(process.cwd().length + 1));
            continue;
          }
          const [scope, name] = file.slice(at + 13).split('/');
          names.add(scope.startsWith('@') ? scope + '/' + name : scope);
        }
        process.stdout.write(JSON.stringify({ output: String(output), packages: [...names].sort(), files: own.sort() }));
        process.exit(0);
      },
      (e) => { console.error(e); process.exit(1); },
    );`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--eval', probe],
      { cwd: ROOT, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${err.message}\n${stderr}`));
        resolve(JSON.parse(stdout.slice(stdout.lastIndexOf('{"output"'))) as LoadedModules);
      },
    );
  });
}
