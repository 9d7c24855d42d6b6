import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A CA made for this process and a server certificate it signed for 127.0.0.1 / localhost. */
export interface SandboxTls {
  /** The CA certificate (PEM): what a kubeconfig's certificate-authority-data carries. */
  caPem: string;
  certPem: string;
  keyPem: string;
}

// Config files rather than -addext: LibreSSL (macOS) and OpenSSL 1.1 read them the same way.
const CA_CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = credential-rotator sandbox CA
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
`;

// Go's TLS stack (kubectl) ignores the CN: the names must be subjectAltNames.
const SERVER_EXTENSIONS = `[v3_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost
authorityKeyIdentifier = keyid
`;

async function openssl(dir: string, args: string[]): Promise<void> {
  try {
    await run('openssl', args, { cwd: dir });
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOENT') {
      throw new Error(
        'the sandbox needs the openssl CLI to make its TLS certificate: install openssl (apt-get install openssl / brew install openssl)',
      );
    }
    const stderr = String((e as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(`openssl ${args[0]} failed: ${stderr.split('\n')[0] ?? 'unknown error'}`);
  }
}

async function generate(): Promise<SandboxTls> {
  const dir = await mkdtemp(join(tmpdir(), 'sandbox-tls-'));
  try {
    await writeFile(join(dir, 'ca.cnf'), CA_CONFIG);
    await writeFile(join(dir, 'server.cnf'), SERVER_EXTENSIONS);
    // P-256 keys: generated in milliseconds, accepted by Go, OpenSSL and Node alike.
    await openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key']);
    await openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'server.key']);
    await openssl(dir, [
      'req',
      '-new',
      '-x509',
      '-key',
      'ca.key',
      '-config',
      'ca.cnf',
      '-extensions',
      'v3_ca',
      '-days',
      '30',
      '-out',
      'ca.crt',
    ]);
    await openssl(dir, ['req', '-new', '-key', 'server.key', '-subj', '/CN=127.0.0.1', '-out', 'server.csr']);
    await openssl(dir, [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-set_serial',
      `0x${Date.now().toString(16)}`,
      '-days',
      '30',
      '-extfile',
      'server.cnf',
      '-extensions',
      'v3_server',
      '-out',
      'server.crt',
    ]);
    const [caPem, certPem, keyPem] = await Promise.all(
      ['ca.crt', 'server.crt', 'server.key'].map((f) => readFile(join(dir, f), 'utf8')),
    );
    return { caPem: caPem!, certPem: certPem!, keyPem: keyPem! };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

let cached: Promise<SandboxTls> | undefined;

/**
 * The sandbox's certificate, generated with the openssl CLI the first time it is asked for and then
 * shared by every double in this process (each test would otherwise pay for five openssl runs).
 */
export function sandboxTls(): Promise<SandboxTls> {
  cached ??= generate().catch((e: unknown) => {
    cached = undefined;
    throw e;
  });
  return cached;
}
