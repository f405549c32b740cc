import { ariCertificateId, type IssuedCertificate } from '@certfleet/acme';
import type { Logger } from '@certfleet/observability';
import { renewalTime } from '@certfleet/renewal';
import type { IssueJobDeps, OrderingAccount } from './deps.js';
import { writeWithinOrder } from './order-writes.js';
import { scheduleByAriInBackground } from './schedule.js';

/**
 * Stores what one order gave (the ECDSA certificate, with the RSA one beside it when ordered)
 * with our own renewal point, starts asking the CA for its renewal window, and marks the name
 * active. The renewal point comes from the shorter-lived of the two, so neither expires unrenewed.
 */
export async function storeCertificate(
  issued: readonly IssuedCertificate[],
  at: { name: string; caName: string; account: OrderingAccount },
  deps: Pick<IssueJobDeps, 'store' | 'clock' | 'logger' | 'renewFraction' | 'random'>,
  log: Logger,
): Promise<{ main: IssuedCertificate; issuedAt: number }> {
  const { name, caName } = at;
  const issuedAt = deps.clock();
  const [main, rsa] = issued;
  if (!main) throw new Error('no certificate was issued');
  const ariId = safely(() => ariCertificateId(main.chainPem));
  const lifetime = { notBefore: main.notBefore, notAfter: Math.min(main.notAfter, rsa?.notAfter ?? Number.POSITIVE_INFINITY) };
  // The CA has issued: a failover now must not lose the certificate or cause a second order.
  const record = {
    ...main,
    name,
    issuedAt,
    ca: caName,
    ariId,
    rsa: rsa ? { chainPem: rsa.chainPem, keyPem: rsa.keyPem, serial: rsa.serial, notAfter: rsa.notAfter } : undefined,
  };
  const renewAt = renewalTime({ name, ...lifetime }, deps.renewFraction);
  await writeWithinOrder(() => deps.store.certificates.save(record, renewAt));
  if (ariId) scheduleByAriInBackground(at.account, ariId, name, lifetime, issuedAt, deps, log);
  await writeWithinOrder(() => deps.store.nameStates.markActive(name, caName, issuedAt));
  return { main, issuedAt };
}

/** A certificate without the extensions an ARI id needs has none (and is renewed at our own point). */
function safely<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
