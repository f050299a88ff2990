import { PlatformError, type DmResult, type Platform, type PlatformErrorKind, type PlatformName, type PlatformRegistry } from './platform.js';

/** How one DM send ended: sent, a kind of platform error, or an error the adapter did not type. */
export type SendOutcome = 'sent' | PlatformErrorKind | 'error';

export type SendObserver = (platform: PlatformName, outcome: SendOutcome) => void;

const outcomeOf = (error: unknown): SendOutcome => (error instanceof PlatformError ? error.kind : 'error');

/**
 * The same platforms, each DM send reported to `observe` as it ends (one report per DM of a batch). Every sender
 * (API sends, the engine's batches) reaches the platforms through the registry, so this sees them all.
 */
export function observeSends(registry: PlatformRegistry, observe: SendObserver): PlatformRegistry {
  const observed = new Map<PlatformName, Platform>();
  const wrap = (platform: Platform): Platform =>
    new Proxy(platform, {
      get(target, property) {
        if (property === 'sendDm') {
          return async (...args: Parameters<Platform['sendDm']>) => {
            try {
              const sent = await target.sendDm(...args);
              observe(target.name, 'sent');
              return sent;
            } catch (error) {
              observe(target.name, outcomeOf(error));
              throw error;
            }
          };
        }
        if (property === 'sendDmBatch' && target.sendDmBatch) {
          return async (...args: Parameters<NonNullable<Platform['sendDmBatch']>>): Promise<DmResult[]> => {
            const results = await target.sendDmBatch!(...args);
            for (const result of results) observe(target.name, result.ok ? 'sent' : result.error.kind);
            return results;
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  return {
    get(name) {
      const platform = registry.get(name);
      if (!platform) return undefined;
      if (!observed.has(name)) observed.set(name, wrap(platform));
      return observed.get(name);
    },
  };
}
