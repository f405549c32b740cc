import { ConfigError } from './errors.js';
import type { Field } from './fields.js';

// biome-ignore lint: the spec maps names to fields of any value type
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
      const shown = field.secret ? `a value of ${raw.length} characters` : JSON.stringify(raw);
      const detail = result.error.issues.find((issue) => issue.code === 'custom')?.message;
      throw new ConfigError(name, `${name} must be ${field.expect}, got ${shown}${detail ? ` (${detail})` : ''}`);
    }
    out[name] = result.data;
  }
  return out as Parsed<S>;
}
