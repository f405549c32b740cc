import type { IssuedCertificate } from '@certfleet/acme';
import type { IssueJobDeps, OrderingAccount } from './deps.js';

/** One certificate per key type (ECDSA first), each its own order. */
export async function issueAll(
  account: OrderingAccount,
  name: string,
  order: { replaces: string | undefined; profile: string | undefined },
  deps: Pick<IssueJobDeps, 'responder' | 'keyTypes'>,
): Promise<IssuedCertificate[]> {
  const issued: IssuedCertificate[] = [];
  for (const keyType of deps.keyTypes) {
    // Only the first (ECDSA) certificate has an ARI id on record.
    issued.push(
      await account.issue([name], deps.responder, keyType, {
        replaces: issued.length === 0 ? order.replaces : undefined,
        profile: order.profile,
      }),
    );
  }
  return issued;
}
