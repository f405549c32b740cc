import { randomBytes } from 'node:crypto';
import type { Server } from 'node:tls';

/** The keys of one moment: new tickets are encrypted with `current`; any of them decrypts. */
export interface TicketKeys {
  current: Buffer;
  next: Buffer;
  previous?: Buffer | undefined;
}

/** What Node's ticket-key hook returns: [result, hmacKey, aesKey] (+ [name, iv] to encrypt). */
type TicketKeyAnswer = [number, Buffer, Buffer] | [number, Buffer, Buffer, Buffer, Buffer];

/**
 * TLS session-ticket keys shared by a fleet (RFC 5077 layout: 16-byte name, 16-byte HMAC secret,
 * 16-byte AES key). Node's own `setTicketKeys` holds one key, so a rotation would make every
 * outstanding ticket useless at once; the ring keeps the previous key for decryption (tickets
 * under it are re-issued under the current one) and already accepts the next one, which another
 * edge may start using a moment before this one learns of the rotation.
 */
export class TicketKeyRing {
  private current: Buffer;
  private readonly decryptByName = new Map<string, { key: Buffer; renew: boolean }>();

  constructor(keys: TicketKeys) {
    this.current = keys.current;
    this.update(keys);
  }

  update(keys: TicketKeys): void {
    for (const key of [keys.current, keys.next, keys.previous]) {
      if (key && key.length !== 48) throw new Error(`a session-ticket key must be 48 bytes, got ${key.length}`);
    }
    this.current = keys.current;
    this.decryptByName.clear();
    const add = (key: Buffer | undefined, renew: boolean) => {
      if (key) this.decryptByName.set(key.subarray(0, 16).toString('hex'), { key, renew });
    };
    add(keys.previous, true);
    add(keys.next, false);
    add(keys.current, false);
  }

  /** The key Node's `setTicketKeys` should hold when the ring cannot be hooked in. */
  get currentKey(): Buffer {
    return this.current;
  }

  /**
   * OpenSSL's ticket-key callback, as Node calls it: to encrypt, the current key and a fresh IV;
   * to decrypt, the key the ticket names (1 = use it, 2 = use it and issue a new ticket under
   * the current key), or 0 when no key matches, which makes a full handshake.
   */
  readonly onTicketKey = (name: Buffer, _iv: Buffer, encrypt: boolean): TicketKeyAnswer => {
    if (encrypt) {
      const key = this.current;
      return [1, key.subarray(16, 32), key.subarray(32, 48), key.subarray(0, 16), randomBytes(16)];
    }
    const found = this.decryptByName.get(name.toString('hex'));
    if (!found) return [0, EMPTY, EMPTY];
    return [found.renew ? 2 : 1, found.key.subarray(16, 32), found.key.subarray(32, 48)];
  };
}

const EMPTY = Buffer.alloc(16);

interface NativeContextWithTicketHook {
  enableTicketKeyCallback(): void;
  onticketkeycallback: TicketKeyRing['onTicketKey'];
}

/**
 * Makes `server` encrypt and decrypt session tickets with `ring`. Node exposes one ticket key
 * publicly; the hook used here is the one Node's own tests use for key rotation
 * (`enableTicketKeyCallback` on the server's native context). Where that hook is missing
 * (a future Node), falls back to `setTicketKeys(current)` and returns false: tickets still work
 * across the fleet, but not across a rotation, so the caller should call this again on update.
 */
export function useTicketKeyRing(server: Server, ring: TicketKeyRing): boolean {
  const native = (server as unknown as { _sharedCreds?: { context?: Partial<NativeContextWithTicketHook> } })._sharedCreds?.context;
  if (native && typeof native.enableTicketKeyCallback === 'function') {
    native.enableTicketKeyCallback();
    native.onticketkeycallback = ring.onTicketKey;
    return true;
  }
  server.setTicketKeys(ring.currentKey);
  return false;
}
