import { z } from 'zod';

/**
 * Every schema of schema.ts that has an id, as JSON Schema 2020-12 (OpenAPI 3.1's dialect),
 * referring to each other as `#/components/schemas/<id>`: what the API's OpenAPI document is
 * built from, so the document cannot drift from what is validated.
 */
export function componentSchemas(): Record<string, Record<string, unknown>> {
  const { schemas } = z.toJSONSchema(z.globalRegistry, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, Record<string, unknown>> };
  const components: Record<string, Record<string, unknown>> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $schema: _schema, $id: _id, ...rest } = schema;
    components[id] = rest;
  }
  return components;
}
