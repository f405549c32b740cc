#!/usr/bin/env node
/**
 * The certfleet command's entry, kept to what must run before the work.
 *
 * - Node's compile cache (22.1+): the compiled code of every module is kept on disk
 *   (NODE_COMPILE_CACHE, else the system's temporary folder) and reused by the next process.
 *   An edge with two workers starts three processes that load the same modules: measured here,
 *   its first handshake came 3.2-3.6 s after spawn without the cache and 1.7-1.8 s with it.
 * - `run ROLE` goes straight to the role, without commander and the admin commands' modules.
 */
import { enableCompileCache } from 'node:module';

enableCompileCache?.();

const [command, role, ...rest] = process.argv.slice(2);
const fastRun = command === 'run' && role !== undefined && rest.length === 0;
const roles = fastRun ? await import('./run-role.js') : undefined;
if (roles?.isRole(role)) {
  try {
    await roles.runRole(role, process.env);
  } catch (error) {
    (await import('./exit.js')).exitOnError(error);
  }
} else {
  await import('./program.js');
}
