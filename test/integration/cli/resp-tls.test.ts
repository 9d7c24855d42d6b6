import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';

const ROOT = join(__dirname, '../../..');

/** A Redis double over TLS: answers every command with +PONG and records the SNI name it was sent. */
describe('the CLI’s Redis connection to a rediss:// URL', () => {
  let dir: string;
  let server: Server;
  let port: number;
  const names: Array<string | false | null> = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'resp-tls-'));
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost'],
        ...[
          '-addext',
          'subjectAltName=DNS:localhost,IP:127.0.0.1',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
      ],
      { stdio: 'ignore' },
    );
    server = createServer(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
      (socket) => {
        names.push(socket.servername);
        socket.on('data', () => socket.write('+PONG\r\n'));
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  /** PING through RespConnection in a process that trusts the double's certificate (as Node is told to). */
  const ping = (url: string) =>
    new Promise<string>((resolve) => {
      const script = `const { RespConnection, redisTarget } = require('./src/cli/resp');
        const c = RespConnection.open(redisTarget(${JSON.stringify(url)}));
        c.command(['PING']).then((r) => process.stdout.write(String(r)), (e) => process.stdout.write('error: ' + e.message)).finally(() => c.close());`;
      execFile(
        process.execPath,
        ['--import', 'tsx', '--eval', script],
        { cwd: ROOT, timeout: 60_000, env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') } },
        (_err, out) => resolve(out),
      );
    });

  it('talks TLS, naming the host it connects to', async () => {
    names.length = 0;
    expect(await ping(`rediss://localhost:${port}`)).toBe('PONG');
    expect(names).toEqual(['localhost']);
  });

  it('names no host when given an address (SNI names hosts only)', async () => {
    names.length = 0;
    expect(await ping(`rediss://127.0.0.1:${port}`)).toBe('PONG');
    expect(names).toEqual([false]);
  });
});
