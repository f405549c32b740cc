const PROBLEM_PREFIX = 'urn:ietf:params:acme:error:';
const STRING = String.raw`"((?:[^"\\]|\\.)*)"?`;
// A problem object's type and detail, in either order, within one JSON object (no brace between).
const TYPE_THEN_DETAIL = new RegExp(String.raw`"type"\s*:\s*"(urn:[^"]{1,200})"[^{}]*?"detail"\s*:\s*${STRING}`, 'g');
const DETAIL_THEN_TYPE = new RegExp(String.raw`"detail"\s*:\s*${STRING}[^{}]*?"type"\s*:\s*"(urn:[^"]{1,200})"`, 'g');

/**
 * The part of a stored error an operator can act on: the ACME problem types and details, when
 * the error carries the CA's answer as raw JSON (acme-client puts the whole authorization in
 * its message when the CA gave no problem on a challenge), after the words that precede it.
 * The JSON came first and the store keeps 500 characters, so `domains status` showed an
 * identifier, a URL and a token, and cut off before the problem (issue 13). Text without a
 * problem in it comes back unchanged.
 */
export function summariseError(text: string): string {
  const problems = new Map<string, string>();
  for (const [, type = '', detail = ''] of text.matchAll(TYPE_THEN_DETAIL)) problems.set(`${type}\u0000${detail}`, '');
  for (const [, detail = '', type = ''] of text.matchAll(DETAIL_THEN_TYPE)) problems.set(`${type}\u0000${detail}`, '');
  if (problems.size === 0) return text;
  const lead = text.slice(0, text.indexOf('{')).trim().replace(/:$/, '');
  const parts = [...problems.keys()].map((key) => {
    const [type = '', detail = ''] = key.split('\u0000');
    return `${type.startsWith(PROBLEM_PREFIX) ? type.slice(PROBLEM_PREFIX.length) : type}: ${jsonStringText(detail)}`;
  });
  return `${lead ? `${lead}: ` : ''}${parts.join('; ')}`;
}

/** A JSON string's contents as text; a string cut off mid-escape is shown as it is. */
function jsonStringText(json: string): string {
  try {
    return JSON.parse(`"${json}"`) as string;
  } catch {
    return json;
  }
}
