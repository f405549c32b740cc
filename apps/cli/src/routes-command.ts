import { Command } from 'commander';
import { loadCommonConfig } from '@certfleet/config';
import { splitNames, table, UsageError, withStore } from './admin.js';

/** The upstream URL a route may point at: http(s), a host, no credentials, query or fragment. */
export function checkRouteUrl(input: string): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new UsageError(`"${input}" is not a URL: give the upstream as http://HOST[:PORT][/PATH] or https://HOST[:PORT][/PATH]`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`"${input}" must start with http:// or https:// (got ${url.protocol}//): the edge proxies HTTP only`);
  }
  if (!url.hostname) throw new UsageError(`"${input}" has no host: give the upstream's host name or IP address`);
  if (url.username || url.password || url.search || url.hash) {
    throw new UsageError(`"${input}" must not carry credentials, a query or a fragment: give scheme, host, port and an optional path prefix`);
  }
  return url;
}

function checkName(input: string): string {
  const { valid, invalid } = splitNames([input]);
  const name = valid[0];
  if (!name) throw new UsageError(`"${input}" is not a valid domain name: ${invalid[0]?.reason}`);
  return name;
}

/** `certfleet routes …`: per-name upstream overrides, picked up by every edge within a moment. */
export function routesCommand(): Command {
  const routes = new Command('routes').description("per-name upstreams: send a name's traffic somewhere else than UPSTREAM_URL");
  routes
    .command('set')
    .description("send NAME's traffic to URL (http:// or https://); edges follow at once, without a restart")
    .argument('<name>')
    .argument('<url>')
    .action(async (input: string, urlInput: string) => {
      const name = checkName(input);
      const url = checkRouteUrl(urlInput);
      // Stored as given, minus a lone trailing slash the URL parser adds to a bare origin.
      const stored = url.pathname === '/' && !urlInput.endsWith('/') ? url.href.replace(/\/$/, '') : url.href;
      await withStore(loadCommonConfig(process.env), (store) => store.routes.set(name, stored));
      process.stdout.write(`${name} -> ${stored}\n`);
    });
  routes
    .command('rm')
    .description("remove NAME's route: its traffic goes to UPSTREAM_URL again")
    .argument('<name>')
    .action(async (input: string) => {
      const name = checkName(input);
      const removed = await withStore(loadCommonConfig(process.env), (store) => store.routes.remove(name));
      if (!removed) throw new UsageError(`${name} has no route: see 'certfleet routes ls'`);
      process.stdout.write(`removed the route of ${name}\n`);
    });
  routes
    .command('ls')
    .description('list routes, by name')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const list = await withStore(loadCommonConfig(process.env), (store) => store.routes.list());
      if (options.json) {
        process.stdout.write(`${JSON.stringify(list)}\n`);
        return;
      }
      if (list.length === 0) return;
      process.stdout.write(`${table([['NAME', 'UPSTREAM'], ...list.map((r) => [r.name, r.url])])}\n`);
    });
  return routes;
}
