import { formatDuration, parseBucketSpec, parseDuration } from '@certfleet/budget';
import { parseKeyFile, type DataKey } from '@certfleet/sealing';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * How a malformed value is shown back in an error message: `as-is`; `url`, with its credentials
 * and secret query values masked (`redactUrl`: a URL may carry a password); `length`, only
 * its length (a key, a token).
 */
export type Echo = 'as-is' | 'url' | 'length';

/**
 * The name a variable had before it was renamed, and how its values were read then. The old name
 * keeps working for one release, with a warning at start-up (see `parseEnv`).
 */
interface FormerName<T> {
  name: string;
  field: Field<T>;
  /** The old name's values are written differently (an integer of milliseconds, not a duration). */
  formChanged: boolean;
}

/**
 * A way of writing the value that is still read for one release, with a warning: a bare number of
 * seconds where a duration is now expected. `rewrite` turns it into the current form.
 */
interface LegacyForm {
  pattern: RegExp;
  description: string;
  rewrite(raw: string): string;
}

interface FieldExtras<T> {
  formerName?: FormerName<T> | undefined;
  legacyForm?: LegacyForm | undefined;
  /** How a value is written back to the operator (a duration as 2s, not 2000). */
  show?: ((value: T) => string) | undefined;
}

/**
 * One environment variable: how to read it, what it must look like (said in the error), its
 * default, and how much of its value may be echoed back in an error message. A field is required
 * unless it has a default or is marked optional.
 */
export class Field<T> {
  constructor(
    readonly expect: string,
    readonly schema: z.ZodType<unknown>,
    readonly echo: Echo = 'as-is',
    readonly defaultValue: string | undefined = undefined,
    readonly isOptional = false,
    readonly extras: FieldExtras<T> = {},
  ) {}

  /** The value used when the variable is unset or empty, written as it would be in the environment. */
  default(value: string): Field<T> {
    return new Field<T>(this.expect, this.schema, this.echo, value, false, this.extras);
  }

  /** Unset is allowed and reads as `undefined`. */
  optional(): Field<T | undefined> {
    return new Field<T | undefined>(this.expect, this.schema, this.echo, undefined, true, this.extras as FieldExtras<T | undefined>);
  }

  /** Also read under `name`, the variable's old name, read as `field` reads it; deprecated. */
  formerly(name: string, field: Field<T>, options: { formChanged?: boolean } = {}): Field<T> {
    const formerName = { name, field, formChanged: options.formChanged ?? false };
    return new Field<T>(this.expect, this.schema, this.echo, this.defaultValue, this.isOptional, { ...this.extras, formerName });
  }

  /** Writes `value` as the operator would set it. */
  show(value: T): string {
    return this.extras.show ? this.extras.show(value) : String(value);
  }
}

type FieldOptions = { echo?: Echo };

/** A field from a zod schema; `expect` completes `NAME must be ...`. */
export function field<T>(expect: string, schema: z.ZodType<T>, options: FieldOptions = {}): Field<T> {
  return new Field<T>(expect, schema, options.echo ?? 'as-is');
}

const integer = (min: number, max: number) => z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(min).max(max));

export const port = () => field('a port number (1-65535)', integer(1, 65535));

export const int = (min: number, max: number, unit: string) => field(`a whole number of ${unit} from ${min} to ${max}`, integer(min, max));

export const url = (protocols: readonly string[]) =>
  field(
    `a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
    z
      .string()
      .refine((value) => {
        try {
          return protocols.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      })
      .transform((value) => new URL(value)),
    { echo: 'url' },
  );

export const ipAddress = () =>
  field(
    'an IPv4 or IPv6 address to listen on (e.g. 0.0.0.0 or ::)',
    z.string().refine((v) => isIP(v) !== 0),
  );

export const email = () => field('an e-mail address', z.email());

export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => field(`one of ${values.join(', ')}`, z.enum(values));

/** A switch: `on`/`off` (also `true`/`false`, `1`/`0`, `yes`/`no`, any case); yields a boolean. */
export const onOff = () =>
  field(
    'on or off',
    z
      .string()
      .transform((text) => text.trim().toLowerCase())
      .pipe(z.enum(['on', 'off', 'true', 'false', '1', '0', 'yes', 'no']))
      .transform((word) => ['on', 'true', '1', 'yes'].includes(word)),
  );

export const pattern = (expect: string, regex: RegExp, options: FieldOptions = {}) => field(expect, z.string().regex(regex), options);

export const secretText = (minLength: number) =>
  field(`a secret of at least ${minLength} characters`, z.string().min(minLength), { echo: 'length' });

/** A readable file holding at least one PEM block of the given kind; yields the file's text. */
export const pemFile = (kind: 'CERTIFICATE' | 'PRIVATE KEY') =>
  field(
    `the path of a readable PEM file containing a ${kind.toLowerCase()}`,
    z.string().transform((path, ctx) => {
      try {
        const text = readFileSync(path, 'utf8');
        if (new RegExp(`-----BEGIN [A-Z ]*${kind}-----`).test(text)) return { path, pem: text };
        ctx.addIssue({ code: 'custom', message: `no ${kind} block in the file` });
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as NodeJS.ErrnoException).code ?? 'unreadable' });
      }
      return z.NEVER;
    }),
  );

/**
 * The fleet's at-rest key file (CERTFLEET_KEK_FILE): one base64 key of 32 bytes a line, the
 * first sealing, every one opening. Read once, here: sealing then stays synchronous.
 */
export const keyFile = () =>
  field(
    'the path of a file of at-rest keys, one base64 key of 32 bytes a line (make one: `openssl rand -base64 32 > /path; CERTFLEET_KEK_FILE=/path`)',
    z.string().transform((path, ctx): { path: string; keys: DataKey[] } => {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as NodeJS.ErrnoException).code ?? 'unreadable' });
        return z.NEVER;
      }
      try {
        return { path, keys: parseKeyFile(text, path) };
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  );

/** A comma-separated list, each item checked by `item`; empty items are refused. */
export const list = (expect: string, item: z.ZodType<string>) =>
  field(
    `a comma-separated list of ${expect}`,
    z.string().transform((text, ctx) => {
      const items = text.split(',').map((part) => part.trim());
      const bad = items.find((part) => !item.safeParse(part).success);
      if (bad !== undefined) {
        ctx.addIssue({ code: 'custom', message: bad === '' ? 'an empty item' : `"${bad}" is not one` });
        return z.NEVER;
      }
      return items;
    }),
  );

export const BUCKET_EXPECT = 'a bucket written CAPACITY/PERIOD[/REFILL] (e.g. 20/60s: 20 at once, 20 more per minute)';

/** A token bucket written CAPACITY/PERIOD[/REFILL], e.g. 20/60s. */
export const bucket = () =>
  field(
    BUCKET_EXPECT,
    z.string().transform((text, ctx) => {
      try {
        return parseBucketSpec(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'not of that form' });
        return z.NEVER;
      }
    }),
  );

/**
 * A duration written NUMBER UNIT (ms, s, m, h, d), e.g. 15s or 12h; yields milliseconds,
 * which must lie within [minMs, maxMs]. Read by `parseDuration`, the one duration parser.
 */
export const duration = (minMs: number, maxMs: number) =>
  new Field<number>(
    `a duration such as 500ms, 15s, 5m, 12h or 1d, from ${formatDuration(minMs)} to ${formatDuration(maxMs)}`,
    z.string().transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined || ms < minMs || ms > maxMs) {
        ctx.addIssue({ code: 'custom', message: ms === undefined ? 'not of that form' : 'out of range' });
        return z.NEVER;
      }
      return ms;
    }),
    'as-is',
    undefined,
    false,
    { show: formatDuration },
  );

/**
 * A duration that was an integer of milliseconds under the name `oldName` (EDGE_ISSUE_WAIT_MS
 * became EDGE_ISSUE_WAIT): the old name is still read, as milliseconds within the same bounds.
 */
export const durationFormerlyMs = (oldName: string, minMs: number, maxMs: number) =>
  duration(minMs, maxMs).formerly(oldName, int(minMs, maxMs, 'milliseconds'), { formChanged: true });

/**
 * A duration that used to be a bare number of seconds under the same name (DNS_MAX_TTL=3600):
 * such a number is still read as seconds, with a warning asking for the unit (3600s or 1h).
 */
export const durationFormerlySeconds = (minMs: number, maxMs: number) => {
  const field = duration(minMs, maxMs);
  const legacyForm: LegacyForm = {
    pattern: /^\d+$/,
    description: 'a number without a unit (read as seconds)',
    rewrite: (raw) => `${raw}s`,
  };
  return new Field<number>(field.expect, field.schema, field.echo, undefined, false, { ...field.extras, legacyForm });
};
