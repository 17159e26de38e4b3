// Feature flags of an instance (reference §1.4). Five sources, in decreasing priority; for each flag
// the first source that defines it wins, values are never merged:
//   1. the instance's own flags;
//   2. the manager, for the instance's feature sets (cached 12 h; skipped when it fails);
//   3. the context configuration `contexts.<ctx>.features`;
//   4. the ratio rollouts of the context: `feature_flags.contexts.<ctx>` of the configuration and the
//      stored source `context` (which wins flag by flag), lists of `{ratio, value}`;
//   5. the defaults: the stored source `default` (plain values) over `feature_flags.default` of the
//      configuration (ratio rollouts, resolved for the instance).
// Ratios bucket an instance with crc32(`<instance id>:<flag>`) / 2^32: the first rule whose cumulated
// ratio is above that number gives the value; when none does, the flag is not set by that source.
import { contextConfig } from '../config/config.js';
import type { Logger } from '../log.js';
import { getFeatureFlagSource } from '../repositories/feature-flags.js';
import type { Instance } from '../repositories/instances.js';
import type { Services } from '../services.js';
import { managerFeatureFlags } from './manager.js';

export type FlagSourceId =
  | 'io.cozy.settings.flags.instance'
  | 'io.cozy.settings.flags.manager'
  | 'io.cozy.settings.flags.config'
  | 'io.cozy.settings.flags.context'
  | 'io.cozy.settings.flags.default';

export interface FlagSource {
  id: FlagSourceId;
  /** What the source defines (the context source keeps its `{ratio, value}` lists). */
  attributes: Record<string, unknown>;
}

export interface ComputedFlags {
  flags: Record<string, unknown>;
  /** The five sources, in decreasing priority. */
  sources: FlagSource[];
}

// --- crc32 (IEEE 802.3, as Go's crc32.ChecksumIEEE) --------------------------------------------

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(input: string | Uint8Array): number {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  let crc = 0xffffffff;
  for (const b of bytes) crc = CRC_TABLE[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Where the instance falls in [0, 1) for a flag. */
export function flagBucket(instanceId: string, flag: string): number {
  return crc32(`${instanceId}:${flag}`) / 0x1_0000_0000;
}

/**
 * The value a list of `{ratio, value}` rules gives the instance, or `found: false` when its bucket
 * is past every rule. A value that is not a list is a plain value for everyone.
 */
export function pickByRatio(instanceId: string, flag: string, rules: unknown): { found: boolean; value?: unknown } {
  if (!Array.isArray(rules)) return { found: true, value: rules };
  const bucket = flagBucket(instanceId, flag);
  let cumulated = 0;
  for (const rule of rules) {
    if (typeof rule !== 'object' || rule === null) continue;
    const { ratio, value } = rule as { ratio?: unknown; value?: unknown };
    if (typeof ratio !== 'number' || !Number.isFinite(ratio) || ratio <= 0) continue;
    cumulated += ratio;
    if (bucket < cumulated) return { found: true, value };
  }
  return { found: false };
}

function resolveRatios(instanceId: string, rules: Record<string, unknown>): Record<string, unknown> {
  const out: [string, unknown][] = [];
  for (const [flag, list] of Object.entries(rules)) {
    const picked = pickByRatio(instanceId, flag, list);
    if (picked.found) out.push([flag, picked.value]);
  }
  return Object.fromEntries(out);
}

/** Computes the flags of an instance and the five sources they come from. */
export async function computeFeatureFlags(services: Services, instance: Instance, opts: { now: number; logger?: Logger }): Promise<ComputedFlags> {
  const { config, db } = services;
  const ctxName = instance.context || 'default';

  const instanceFlags = { ...instance.featureFlags };

  let managerAttributes: Record<string, unknown> = {};
  let managerFlags: Record<string, unknown> = {};
  try {
    const fromManager = await managerFeatureFlags(config, instance, opts.now);
    if (fromManager) {
      managerFlags = fromManager.flags;
      managerAttributes = { sets: fromManager.sets, ...fromManager.flags };
    }
  } catch (err) {
    (opts.logger ?? services.logger).warn({ reason: (err as Error).message }, 'feature flags: the manager source is skipped');
  }

  const configFlags = { ...contextConfig(config, instance.context).features };

  const storedContext = (await getFeatureFlagSource(db, 'context', ctxName)) ?? {};
  const contextRules: Record<string, unknown> = { ...(config.featureFlags.contexts[ctxName] ?? {}), ...storedContext };

  const storedDefault = (await getFeatureFlagSource(db, 'default')) ?? {};
  const defaultFlags: Record<string, unknown> = { ...resolveRatios(instance.id, config.featureFlags.default), ...storedDefault };

  // A Map, then fromEntries: flag names come from JSON and may be `__proto__`.
  const merged = new Map<string, unknown>();
  const layers = [instanceFlags, managerFlags, configFlags, resolveRatios(instance.id, contextRules), defaultFlags];
  for (const layer of layers) for (const [k, v] of Object.entries(layer)) if (!merged.has(k)) merged.set(k, v);
  const flags = Object.fromEntries(merged);

  return {
    flags,
    sources: [
      { id: 'io.cozy.settings.flags.instance', attributes: instanceFlags },
      { id: 'io.cozy.settings.flags.manager', attributes: managerAttributes },
      { id: 'io.cozy.settings.flags.config', attributes: configFlags },
      { id: 'io.cozy.settings.flags.context', attributes: contextRules },
      { id: 'io.cozy.settings.flags.default', attributes: defaultFlags },
    ],
  };
}
