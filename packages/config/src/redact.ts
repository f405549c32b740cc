/** What stands in for a secret in an error message or a log line. */
const MASK = '***';

/**
 * Query parameters whose value is a secret, by name: `password=`, `pass=`, `pwd=`, `secret=`,
 * `token=`, `key=`, `apikey=`, `api_key=`, `access_key=`, `auth=`, `sig=`, `signature=`,
 * `credential=`... (an `ask` endpoint or a CA directory may take its key in the query).
 */
const SECRET_PARAM = /([?&;][^=&;#]*(?:pass|pwd|secret|token|key|auth|sig|credential)[^=&;#]*=)[^&;#]*/gi;

/**
 * `text` (a URL, or something meant to be one) with its secrets masked, for config errors and
 * logs: `redis://user:***@host:6379`, `https://ask.example/check?key=***`.
 *
 * Works on the text, not on a parsed URL, because the values that most need it are the ones
 * `new URL` refuses (a password with an unencoded `/`, `#` or `?`), and because a URL that does
 * parse may still be split elsewhere than its author meant (`https://user:12/ab@host` parses
 * with host `user`, port 12). So everything between `//` (or the start, when there is none) and
 * the last `@` is credentials: the user name before the first `:` is kept, the rest masked; with
 * no `:` the whole of it is masked (a bare token used as user name). An `@` in a path or query
 * makes this mask more than needed, never less.
 */
export function redactUrl(text: string): string {
  const slashes = text.indexOf('//');
  const start = slashes === -1 ? 0 : slashes + 2;
  const at = text.lastIndexOf('@');
  let out = text;
  if (at >= start) {
    const userinfo = text.slice(start, at);
    const colon = userinfo.indexOf(':');
    const shown = colon === -1 ? MASK : `${userinfo.slice(0, colon)}:${MASK}`;
    out = `${text.slice(0, start)}${shown}${text.slice(at)}`;
  }
  return out.replace(SECRET_PARAM, `$1${MASK}`);
}
