/**
 * ACCESS_PROVIDER: the module a site points at for its own access rules (a path, relative to the working directory,
 * or a package name). Its default export is a factory `(context) => AccessProvider | Promise<AccessProvider>`
 * (application/access-plugin.ts); what it makes is checked against the port here, at start, and a module that does
 * not fit stops the server with a ConfigError naming what is wrong.
 */
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { accessProviderMisfits } from '../application/access-plugin.ts';
import type { AccessPluginContext } from '../application/access-plugin.ts';
import type { AccessProvider } from '../application/ports/access.ts';
import { ConfigError } from './config.ts';

/**
 * Only the reads a plugin is given, so that nothing else of the read models is within its reach: what the server
 * passes a plugin, and what the contract suite (tests/contract/access-provider.contract.test.ts) passes it.
 */
export const pluginQueries = (readModels: AccessPluginContext['queries']): AccessPluginContext['queries'] => ({
  calendar: (userId, from, to) => readModels.calendar(userId, from, to),
  getPerson: (personId) => readModels.getPerson(personId),
  personActive: (personId) => readModels.personActive(personId),
  getMeeting: (meetingId) => readModels.getMeeting(meetingId),
});

/** Where the module is: a path (`./plugins/crm.ts`, `/srv/crm.js`) from `cwd`, else a package found from `cwd`. */
const moduleUrl = (specifier: string, cwd: string): string => {
  if (specifier.startsWith('.') || isAbsolute(specifier)) return pathToFileURL(resolve(cwd, specifier)).href;
  return pathToFileURL(createRequire(join(cwd, 'package.json')).resolve(specifier)).href;
};

export const loadAccessProvider = async (
  specifier: string,
  context: AccessPluginContext,
  cwd: string = process.cwd(),
): Promise<AccessProvider> => {
  const where = `ACCESS_PROVIDER=${specifier}`;
  let module: { default?: unknown };
  try {
    module = (await import(moduleUrl(specifier, cwd))) as { default?: unknown };
  } catch (error) {
    throw new ConfigError(`${where}: the module cannot be loaded (${error instanceof Error ? error.message : error})`);
  }
  const factory = module.default;
  if (typeof factory !== 'function')
    throw new ConfigError(
      `${where}: the module has no default export that is a function; export default ` +
        '`(context) => AccessProvider` (see adapters/access/front-desk.ts)',
    );
  let provider: unknown;
  try {
    provider = await (factory as (c: AccessPluginContext) => unknown)(context);
  } catch (error) {
    throw new ConfigError(`${where}: its factory failed (${error instanceof Error ? error.message : String(error)})`);
  }
  const misfits = accessProviderMisfits(provider);
  if (misfits.length > 0)
    throw new ConfigError(
      `${where}: what its factory made does not fit the AccessProvider port: ${misfits.join('; ')}`,
    );
  return provider as AccessProvider;
};
