/**
 * The registry a command runs with: the built-in probes and checks, then
 * each `--plugin` module, registered the same way. A plugin is a CommonJS
 * (or TypeScript) module that exports `register(api)`; `api` carries the
 * project's own zod and fact helpers, so its schemas are the ones the
 * harness validates with.
 *
 *   exports.register = ({ addProbe, addCheck, defineFact, basis, factsOf, z }) => { ... }
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { StarbenchError } from '../harness/errors';
import { basis, defineFact, factOf, factsOf } from '../harness/facts';
import { gate } from '../harness/gate';
import { Registry } from '../harness/registry';
import type { Check, Probe } from '../harness/types';
import { ALL_CHECKS } from '../profiles/checks';
import { ALL_PROBES } from '../probes';

export interface PluginApi {
  addProbe(probe: Probe): void;
  addCheck(check: Check): void;
  defineFact: typeof defineFact;
  basis: typeof basis;
  factsOf: typeof factsOf;
  factOf: typeof factOf;
  gate: typeof gate;
  z: typeof z;
}

/**
 * A TypeScript plugin loads through tsx. From the sources tsx is already there; the compiled
 * build (dist/) registers it on the first .ts plugin. Under jest (no require.extensions) its
 * own transform does the work.
 */
function loadTypeScript(): void {
  const extensions = (require as NodeJS.Require).extensions as NodeJS.RequireExtensions | undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  if (extensions && !extensions['.ts']) (require('tsx/cjs/api') as { register(): unknown }).register();
}

export function loadRegistry(plugins: readonly string[] = []): Registry {
  const registry = new Registry();
  for (const p of ALL_PROBES) registry.addProbe(p);
  for (const c of ALL_CHECKS) registry.addCheck(c);
  for (const file of plugins) {
    const abs = path.resolve(file);
    if (!existsSync(abs)) throw new StarbenchError('PLUGIN_INVALID', `plugin ${file}: no such file`);
    let mod: { register?: unknown; default?: { register?: unknown } };
    try {
      if (/\.[cm]?ts$/.test(abs)) loadTypeScript();
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      mod = require(abs) as typeof mod;
    } catch (err) {
      throw new StarbenchError('PLUGIN_INVALID', `plugin ${file} could not be loaded: ${(err as Error).message.split('\n')[0]}`, { cause: err });
    }
    const register = mod.register ?? mod.default?.register;
    if (typeof register !== 'function') throw new StarbenchError('PLUGIN_INVALID', `plugin ${file} exports no register(api) function`);
    const api: PluginApi = {
      addProbe: (p) => registry.addProbe(p, `plugin ${file}`),
      addCheck: (c) => registry.addCheck(c, `plugin ${file}`),
      defineFact,
      basis,
      factsOf,
      factOf,
      gate,
      z,
    };
    try {
      register(api);
    } catch (err) {
      if (err instanceof StarbenchError) throw err;
      throw new StarbenchError('PLUGIN_INVALID', `plugin ${file}: register() failed: ${(err as Error).message}`, { cause: err });
    }
  }
  registry.validate();
  return registry;
}
