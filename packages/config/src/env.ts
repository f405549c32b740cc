import { ConfigError } from './errors.js';
import type { Field } from './fields.js';
import { redactUrl } from './redact.js';
import { renamedVariable } from './renamed.js';

// biome-ignore lint/suspicious/noExplicitAny: a spec maps names to fields of any value type
type AnyField = Field<any>;
export type Spec = Record<string, AnyField>;
export type Parsed<S extends Spec> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };

/**
 * Reads every variable named in `spec` from `env`; an empty value counts as unset. The first
 * problem found throws a {@link ConfigError} whose message is one line, e.g.
 * `EDGE_HTTPS_PORT must be a port number (1-65535), got "abc"`. A variable's former name, or a
 * value written in a deprecated form, still works and adds a line to `warnings` (logged at start-up).
 */
export function parseEnv<S extends Spec>(spec: S, env: NodeJS.ProcessEnv, warnings: string[] = []): Parsed<S> {
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(spec)) {
    const current = readGiven(name, field, env, warnings);
    const former = field.extras.formerName;
    const old = former && readGiven(former.name, former.field, env, warnings);
    if (current === undefined && old === undefined) {
      out[name] = readDefault(name, field);
      continue;
    }
    out[name] = former
      ? renamedVariable({ name, value: current }, { name: former.name, value: old }, readDefault(name, field), warnings, {
          show: (value) => field.show(value),
          formChanged: former.formChanged,
        })
      : current;
  }
  return out as Parsed<S>;
}

/** Every variable name `spec` reads, former names included. */
export function variableNamesOf(spec: Spec): string[] {
  return Object.entries(spec).flatMap(([name, field]) => [name, ...(field.extras.formerName ? [field.extras.formerName.name] : [])]);
}

/** The value set for `name`, parsed; `undefined` when unset or empty. */
function readGiven(name: string, field: AnyField, env: NodeJS.ProcessEnv, warnings: string[]): unknown {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const legacy = field.extras.legacyForm;
  if (legacy?.pattern.test(raw.trim())) {
    const value = parse(name, field, legacy.rewrite(raw.trim()));
    warnings.push(`${name}=${raw} is ${legacy.description}, which is deprecated: write it as ${name}=${field.show(value)}`);
    return value;
  }
  return parse(name, field, raw);
}

function readDefault(name: string, field: AnyField): unknown {
  if (field.defaultValue !== undefined) return parse(name, field, field.defaultValue);
  if (!field.isOptional) throw new ConfigError(name, `${name} is required: set it to ${field.expect}`);
  return undefined;
}

function parse(name: string, field: AnyField, raw: string): unknown {
  const result = field.schema.safeParse(raw);
  if (!result.success) {
    const detail = result.error.issues.find((issue) => issue.code === 'custom')?.message;
    throw new ConfigError(name, `${name} must be ${field.expect}, got ${shown(field, raw, detail)}`);
  }
  return result.data;
}

/**
 * The given value as an error may show it: masked as its field says. A secret's detail is left
 * out too, since a check's message may quote the value.
 */
function shown(field: AnyField, raw: string, detail: string | undefined): string {
  if (field.echo === 'length') return `a value of ${raw.length} characters`;
  const [value, why] = field.echo === 'url' ? [redactUrl(raw), detail && redactUrl(detail)] : [raw, detail];
  return `${JSON.stringify(value)}${why ? ` (${why})` : ''}`;
}
