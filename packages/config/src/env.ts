import { ConfigError } from './errors.js';
import type { Field } from './fields.js';
import { redactUrl } from './redact.js';

// biome-ignore lint/suspicious/noExplicitAny: the spec maps names to fields of any value type
type Spec = Record<string, Field<any>>;
export type Parsed<S extends Spec> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };

/**
 * Reads every variable named in `spec` from `env`; an empty value counts as unset. The first
 * problem found throws a {@link ConfigError} whose message is one line, e.g.
 * `EDGE_HTTPS_PORT must be a port number (1-65535), got "abc"`.
 */
export function parseEnv<S extends Spec>(spec: S, env: NodeJS.ProcessEnv): Parsed<S> {
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(spec)) {
    const given = env[name];
    const raw = given === undefined || given === '' ? field.defaultValue : given;
    if (raw === undefined) {
      if (!field.isOptional) throw new ConfigError(name, `${name} is required: set it to ${field.expect}`);
      out[name] = undefined;
      continue;
    }
    const result = field.schema.safeParse(raw);
    if (!result.success) {
      const detail = result.error.issues.find((issue) => issue.code === 'custom')?.message;
      throw new ConfigError(name, `${name} must be ${field.expect}, got ${shown(field, raw, detail)}`);
    }
    out[name] = result.data;
  }
  return out as Parsed<S>;
}

/**
 * The given value as an error may show it: masked as its field says. A secret's detail is left
 * out too, since a check's message may quote the value.
 */
function shown(field: Field<unknown>, raw: string, detail: string | undefined): string {
  if (field.echo === 'length') return `a value of ${raw.length} characters`;
  const [value, why] = field.echo === 'url' ? [redactUrl(raw), detail && redactUrl(detail)] : [raw, detail];
  return `${JSON.stringify(value)}${why ? ` (${why})` : ''}`;
}
