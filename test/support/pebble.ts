import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, REPO_ROOT, spawnProc, type Proc } from './processes.js';

let binDir: string | undefined;
let sidBinDir: string | undefined;

/** Where `pebble` and `pebble-challtestsrv` are: Pebble 2.6 from the project's cache, else Debian 12's 2.4. */
export function pebbleBinDir(): string {
  binDir ??=
    process.env.PEBBLE_BIN_DIR ?? execFileSync('bash', [join(REPO_ROOT, 'infra/scripts/fetch-pebble.sh')], { encoding: 'utf8' }).trim();
  return binDir;
}

/**
 * Pebble with ACME profiles: Debian sid's (2.10), fetched like 2.6. Pebble 2.6 has none (its
 * config has no `profiles`; they came in 2.7).
 */
function pebbleWithProfilesBinDir(): string {
  sidBinDir ??=
    process.env.PEBBLE_PROFILES_BIN_DIR ??
    execFileSync('bash', [join(REPO_ROOT, 'infra/scripts/fetch-pebble.sh'), 'sid'], { encoding: 'utf8' }).trim();
  return sidBinDir;
}

export interface PebbleOptions {
  /** The port Pebble's validator connects to for http-01: an edge's HTTP port. */
  httpPort: number;
  /** Certificate lifetime in seconds (Pebble's default is about 5 years). */
  validitySeconds?: number;
  /** The port Pebble's validator connects to for tls-alpn-01: an edge's HTTPS port. */
  tlsPort?: number;
  /** Require external account binding, with these key ids and base64url HMAC keys. */
  eabKeys?: Record<string, string>;
  /**
   * ACME profiles the CA offers (listed in its directory's `meta.profiles`), each with its
   * certificate lifetime in seconds. Runs Pebble 2.10 (see pebbleWithProfilesBinDir).
   */
  profiles?: Record<string, { description: string; validityPeriod: number }>;
  /** Extra environment for Pebble, e.g. PEBBLE_WFE_NONCEREJECT. */
  env?: NodeJS.ProcessEnv;
  name?: string;
}

export interface Pebble {
  directoryUrl: string;
  /** Pebble's own listener certificate: give it to the issuer as ACME_CA_BUNDLE. */
  listenerCertPath: string;
  listenerCertPem: string;
  /** The private key of Pebble's listener certificate (a proxy in front of Pebble serves the same pair). */
  listenerKeyPath: string;
  /** challtestsrv's management API (add-a, set-cname, ...). */
  challtestsrvUrl: string;
  /** challtestsrv's DNS server, HOST:PORT: Pebble's resolver, and certfleet's in dns-policy tests. */
  dnsAddress: string;
  /** POSTs to challtestsrv's management API, e.g. `challtest('set-cname', {host, target})`. */
  challtest(command: string, body: Record<string, unknown>): Promise<void>;
  pebble: Proc;
  challtestsrv: Proc;
  /** The root of this run (Pebble makes a new CA at every start). */
  rootPem(): Promise<string>;
  /** New orders Pebble has created so far, read from its own log. */
  orderCount(): number;
  /** Serials (upper-case hex) Pebble has issued so far, read from its own log. */
  issuedSerials(): string[];
  /**
   * Resolves once Pebble's log shows it issued `serial`: its log arrives through a pipe and may
   * trail the TLS answer that carried the certificate, so read counts only after this.
   */
  waitForIssued(serial: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Pebble with pebble-challtestsrv as its DNS server (every name resolves to 127.0.0.1), no
 * random validation sleeps, no random nonce rejections, no authorization reuse: every order is
 * validated for real against the edge.
 */
export async function startPebble(options: PebbleOptions): Promise<Pebble> {
  const bin = pebbleBinDir();
  // Only the CA itself changes for profiles; 2.6's challtestsrv (its flags differ in 2.10) serves DNS either way.
  const caBin = options.profiles ? pebbleWithProfilesBinDir() : bin;
  const dir = mkdtempSync(join(tmpdir(), 'certfleet-pebble-'));
  const [listen, management, dns, ctsManagement] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const certPath = join(dir, 'listener.pem');
  const keyPath = join(dir, 'listener-key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '7',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const configPath = join(dir, 'pebble.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${listen}`,
        managementListenAddress: `127.0.0.1:${management}`,
        certificate: certPath,
        privateKey: keyPath,
        httpPort: options.httpPort,
        tlsPort: options.tlsPort ?? 5001,
        ocspResponderURL: '',
        externalAccountBindingRequired: options.eabKeys !== undefined,
        ...(options.eabKeys ? { externalAccountMACKeys: options.eabKeys } : {}),
        ...(options.validitySeconds ? { certificateValidityPeriod: options.validitySeconds } : {}),
        ...(options.profiles ? { profiles: options.profiles } : {}),
      },
    }),
  );
  const name = options.name ?? 'pebble';
  const challtestsrv = spawnProc(`${name}-challtestsrv`, join(bin, 'pebble-challtestsrv'), [
    '-dns01',
    `127.0.0.1:${dns}`,
    '-management',
    `127.0.0.1:${ctsManagement}`,
    '-http01',
    '',
    '-https01',
    '',
    '-tlsalpn01',
    '',
    '-doh',
    '',
    '-defaultIPv6',
    '',
  ]);
  await challtestsrv.waitForLine((l) => l.includes('Starting management server'), 15_000, 'challtestsrv ready');
  const pebble = spawnProc(`${name}-${listen}`, join(caBin, 'pebble'), ['-config', configPath, '-dnsserver', `127.0.0.1:${dns}`], {
    env: {
      ...process.env,
      PEBBLE_VA_NOSLEEP: '1',
      PEBBLE_WFE_NONCEREJECT: '0',
      PEBBLE_AUTHZREUSE: '0',
      ...options.env,
    },
  });
  await pebble.waitForLine((l) => l.includes('ACME directory available'), 15_000, 'pebble ready');
  const listenerCertPem = execFileSync('cat', [certPath], { encoding: 'utf8' });
  const agent = new Agent({ ca: listenerCertPem });
  return {
    directoryUrl: `https://127.0.0.1:${listen}/dir`,
    listenerCertPath: certPath,
    listenerCertPem,
    listenerKeyPath: keyPath,
    challtestsrvUrl: `http://127.0.0.1:${ctsManagement}`,
    dnsAddress: `127.0.0.1:${dns}`,
    async challtest(command, body) {
      const response = await fetch(`http://127.0.0.1:${ctsManagement}/${command}`, { method: 'POST', body: JSON.stringify(body) });
      if (!response.ok) throw new Error(`challtestsrv ${command}: ${response.status} ${await response.text()}`);
    },
    pebble,
    challtestsrv,
    rootPem: () => httpsGetText(`https://127.0.0.1:${management}/roots/0`, agent),
    orderCount: () => pebble.lines.filter((l) => /Added order "[^"]+" to the db/.test(l)).length,
    issuedSerials: () =>
      pebble.lines.flatMap((l) => {
        const m = /Issued certificate serial ([0-9a-f]+) for order/.exec(l);
        return m?.[1] ? [m[1].toUpperCase().replace(/^0+/, '')] : [];
      }),
    async waitForIssued(serial, timeoutMs = 10_000) {
      // Pebble pads serials with zeros (%016x); TLS clients print them without.
      const wanted = new RegExp(`Issued certificate serial 0*${serial.toLowerCase().replace(/^0+/, '')} `);
      await pebble.waitForLine((l) => wanted.test(l), timeoutMs, `issuance of ${serial}`);
    },
    async stop() {
      await Promise.all([pebble.stop(), challtestsrv.stop()]);
    },
  };
}

function httpsGetText(url: string, agent: Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, { agent, headers: { 'user-agent': 'certfleet-tests' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: ${res.statusCode} ${body}`))));
    })
      .on('error', reject)
      .end();
  });
}

/** Orders Pebble validated for `name` (with authorization reuse off, one per order for that name). */
export function ordersFor(pebble: Pebble, name: string): number {
  return pebble.pebble.lines.filter((l) => l.includes('Pulled a task from the Tasks queue') && l.includes(`Value:"${name}"`)).length;
}
