/**
 * Freezes a configuration tree so that no consumer can change what every other consumer sees; a
 * reload builds a new tree instead. Shared objects (an alias referenced by several reverse-proxy
 * entries) are visited once.
 */
export function deepFreeze<T>(value: T, seen: WeakSet<object> = new WeakSet()): T {
  if (value === null || typeof value !== 'object' || seen.has(value)) return value;
  seen.add(value);
  for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key], seen);
  return Object.freeze(value);
}
