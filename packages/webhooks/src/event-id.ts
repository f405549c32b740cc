import { createHash } from 'node:crypto';

/**
 * The stable id of an event: the same (type, hostname, key) gives the same id in any process,
 * at any time. The key says which occurrence: a certificate's serial for issued/renewed/retired,
 * its notAfter for expiring, the issuance job for failed. A retried job that publishes again
 * produces the same id, and the delivery job of that id already exists: it is not sent twice.
 */
export function eventId(type: string, hostname: string, key = ''): string {
  // NUL cannot occur in a type, a host name or our keys: the three parts cannot run into each other.
  const digest = createHash('sha256').update(`${type}\0${hostname}\0${key}`).digest('hex');
  return `evt_${digest.slice(0, 32)}`;
}

/** A receiver's id: a hash of its URL, so that job data never carries the URL's credentials. */
export function receiverId(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 16);
}
