/**
 * Renewals at scale, against a fresh redis-server of the bench's own (free port, killed at the end):
 * 1. an index of 1,000,000 certificates (synthetic renewal-index and inventory entries written
 *    straight to Redis, pipelined), then renewer ticks with 1,000 due each: the real
 *    `runRenewalTick` (due slice, postpone, 1,000 BullMQ renewal jobs); median of a few ticks;
 * 2. Redis memory per stored certificate: N certificates with a real-shaped chain (ECDSA P-256
 *    leaf + P-384 intermediate, as Let's Encrypt issues) and key written through the store's
 *    `save` (certificate hash with the leaf, the sealed key and the chain's id, renewal index,
 *    inventory, served-name entry, and the one shared intermediate chain): INFO used_memory
 *    delta / N, so the shared chain counts once, not per certificate.
 * Run: `pnpm bench:renewal-scale`. Prints and writes bench/out/renewal-scale.json.
 * BENCH_INDEX_SIZE, BENCH_DUE, BENCH_TICKS, BENCH_CERTS change the sizes.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { REPO_ROOT, stopAll } from '../test/support/processes.js';
import { startRedis } from '../test/support/redis.js';
import { createIssueQueue, createKeyring, createStore, keyIdOf, Redis, redisKeys, runRenewalTick } from '../test/support/workspace.js';

const INDEX_SIZE = Number(process.env.BENCH_INDEX_SIZE ?? 1_000_000);
const DUE = Number(process.env.BENCH_DUE ?? 1_000);
const TICKS = Number(process.env.BENCH_TICKS ?? 5);
const CERTS = Number(process.env.BENCH_CERTS ?? 10_000);
const PIPELINE = 10_000;
const DAY = 86_400_000;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
const usedMemory = async (redis: Redis) => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
const syntheticName = (i: number) => `shop-${i}.customer-${i % 1_000}.example.com`;

/** A chain shaped like Let's Encrypt's (P-256 leaf, P-384 intermediate) and the leaf's key, made with openssl. */
function realShapedChain(): { chainPem: string; keyPem: string } {
  const dir = mkdtempSync(join(tmpdir(), 'certfleet-bench-chain-'));
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  run(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-384',
    '-nodes',
    '-days',
    '3650',
    '-keyout',
    'root.key',
    '-out',
    'root.pem',
    '-subj',
    '/C=US/O=Bench Root/CN=Bench Root X2',
  );
  run(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-384',
    '-nodes',
    '-keyout',
    'int.key',
    '-out',
    'int.csr',
    '-subj',
    '/C=US/O=Bench CA/CN=E5',
  );
  writeFileSync(
    join(dir, 'int.ext'),
    'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,digitalSignature,keyCertSign,cRLSign\nextendedKeyUsage=serverAuth,clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\nauthorityInfoAccess=caIssuers;URI:http://x2.i.lencr.org/\ncrlDistributionPoints=URI:http://x2.c.lencr.org/\ncertificatePolicies=2.23.140.1.2.1\n',
  );
  run(
    'x509',
    '-req',
    '-in',
    'int.csr',
    '-CA',
    'root.pem',
    '-CAkey',
    'root.key',
    '-CAcreateserial',
    '-days',
    '1095',
    '-extfile',
    'int.ext',
    '-out',
    'int.pem',
  );
  run(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'leaf.key',
    '-out',
    'leaf.csr',
    '-subj',
    '/CN=shop-0.customer-0.example.com',
  );
  writeFileSync(
    join(dir, 'leaf.ext'),
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\nauthorityInfoAccess=caIssuers;URI:http://e5.i.lencr.org/\nsubjectAltName=DNS:shop-0.customer-0.example.com\ncertificatePolicies=2.23.140.1.2.1\ncrlDistributionPoints=URI:http://e5.c.lencr.org/42.crl\n',
  );
  run(
    'x509',
    '-req',
    '-in',
    'leaf.csr',
    '-CA',
    'int.pem',
    '-CAkey',
    'int.key',
    '-CAcreateserial',
    '-days',
    '90',
    '-extfile',
    'leaf.ext',
    '-out',
    'leaf.pem',
  );
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  // acme-client hands back PKCS#8 keys; openssl's -keyout writes PKCS#8 too.
  return { chainPem: read('leaf.pem') + read('int.pem'), keyPem: read('leaf.key') };
}

async function main(): Promise<void> {
  const server = await startRedis('bench-redis');
  const redis = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: null });
  try {
    const prefix = 'bench';
    const keys = redisKeys(prefix);
    const store = createStore(redis, prefix);
    const now = Date.now();

    // 1. The index: 1,000,000 names renewing over the next 60 days, expiring 30 days after.
    const baseline = await usedMemory(redis);
    const writeStarted = performance.now();
    for (let start = 0; start < INDEX_SIZE; start += PIPELINE) {
      const pipeline = redis.pipeline();
      const renewals: (string | number)[] = [];
      const inventory: (string | number)[] = [];
      for (let i = start; i < Math.min(INDEX_SIZE, start + PIPELINE); i += 1) {
        const renewAt = now + DAY + Math.floor(((i * 7_919) % INDEX_SIZE) * ((60 * DAY) / INDEX_SIZE));
        renewals.push(renewAt, syntheticName(i));
        inventory.push(renewAt + 30 * DAY, syntheticName(i));
      }
      pipeline.zadd(keys.renewals, ...renewals).zadd(keys.inventory, ...inventory);
      await pipeline.exec();
    }
    const writeSeconds = (performance.now() - writeStarted) / 1000;
    const indexBytes = (await usedMemory(redis)) - baseline;
    if ((await redis.zcard(keys.renewals)) !== INDEX_SIZE) throw new Error('the synthetic index is incomplete');

    // Ticks: each makes a fresh group of DUE names due (a distinct group, so that the queue's
    // deduplication of unfinished jobs does not make a tick cheaper than the first).
    const queue = createIssueQueue({ connection: redis, prefix: keys.queuePrefix });
    await queue.waitUntilReady();
    const tickMs: number[] = [];
    const sliceMs: number[] = [];
    for (let tick = 0; tick < TICKS; tick += 1) {
      const group = Array.from({ length: DUE }, (_, i) => syntheticName(tick * DUE + i));
      await redis.zadd(keys.renewals, ...group.flatMap((name, i) => [now - DUE + i, name]));
      // The read alone: the due slice of the 1,000,000-entry index.
      const sliceStarted = performance.now();
      const slice = await store.renewals.due(Date.now(), DUE);
      sliceMs.push(performance.now() - sliceStarted);
      if (slice.length !== DUE) throw new Error(`the due slice has ${slice.length} names, expected ${DUE}`);
      const started = performance.now();
      const outcome = await runRenewalTick({
        renewals: store.renewals,
        certificates: store.certificates,
        queue,
        now: Date.now(),
        batch: DUE,
        retryMs: 3_600_000,
      });
      tickMs.push(performance.now() - started);
      if (outcome.enqueued.length !== DUE) throw new Error(`tick ${tick} enqueued ${outcome.enqueued.length} renewals, expected ${DUE}`);
    }
    const jobs = await queue.count();
    await queue.close();

    // 2. Memory per stored certificate, through the store's own save().
    const { chainPem, keyPem } = realShapedChain();
    // Keys sealed as the issuer seals them: the encryption's overhead is in the figure.
    const kek = randomBytes(32);
    const certStore = createStore(redis, 'bench-certs', { keyring: createKeyring([{ id: keyIdOf(kek), bytes: kek }]) });
    const before = await usedMemory(redis);
    for (let start = 0; start < CERTS; start += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, CERTS - start) }, (_, k) => {
          const name = syntheticName(start + k);
          return certStore.certificates.save(
            {
              name,
              names: [name],
              chainPem,
              keyPem,
              serial: (0x04a1b2c3d4e5f60718n + BigInt(start + k)).toString(16).toUpperCase().padStart(36, '0'),
              notBefore: now,
              notAfter: now + 90 * DAY,
              issuer: 'E5',
              issuedAt: now,
              ca: 'letsencrypt',
              ariId: 'n1Yv3Al3sHUnRmy8fn6Gb3BCa3k.BKGyw9XlTwaGHgAAAAAAAAAAAAAAA',
            },
            now + 60 * DAY,
          );
        }),
      );
    }
    const perCertBytes = ((await usedMemory(redis)) - before) / CERTS;

    const result = {
      index: {
        entries: INDEX_SIZE,
        writeSeconds: Number(writeSeconds.toFixed(1)),
        bytesPerEntry: Math.round(indexBytes / INDEX_SIZE),
        note: 'renewal index + inventory: two sorted-set entries per certificate',
      },
      tick: {
        due: DUE,
        ticks: TICKS,
        medianMs: Number(median(tickMs).toFixed(1)),
        allMs: tickMs.map((ms) => Number(ms.toFixed(1))),
        dueSliceMedianMs: Number(median(sliceMs).toFixed(2)),
        jobsEnqueued: jobs,
        note: 'a tick: expired retired certificates (inventory due slice), the renewal due slice, postpone, 1,000 BullMQ renewal jobs',
      },
      memory: {
        certificates: CERTS,
        chainBytes: chainPem.length,
        keyBytes: keyPem.length,
        bytesPerCertificate: Math.round(perCertBytes),
        note: 'INFO used_memory delta / N after CertificateStore.save: hash with leaf, sealed key, chain id and dates + renewal index + inventory + served entry; the intermediate chain is stored once for all',
      },
      redis: execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim(),
      node: process.version,
      when: new Date().toISOString(),
    };
    mkdirSync(join(REPO_ROOT, 'bench', 'out'), { recursive: true });
    writeFileSync(join(REPO_ROOT, 'bench', 'out', 'renewal-scale.json'), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(
      `index of ${INDEX_SIZE.toLocaleString('en')} certificates written in ${result.index.writeSeconds} s (${result.index.bytesPerEntry} bytes per certificate in the two indexes)\n` +
        `renewer tick with ${DUE} due: median ${result.tick.medianMs} ms over ${TICKS} ticks (${result.tick.allMs.join(', ')} ms); reading the due slice alone: median ${result.tick.dueSliceMedianMs} ms\n` +
        `Redis memory per stored certificate (chain ${result.memory.chainBytes} B + key ${result.memory.keyBytes} B): ${result.memory.bytesPerCertificate} bytes\n`,
    );
  } finally {
    redis.disconnect();
    await server.stop();
    await stopAll();
  }
}

main().catch(async (error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  await stopAll();
  process.exit(1);
});
