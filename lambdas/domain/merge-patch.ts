/**
 * JSON Merge Patch (RFC 7396, https://www.rfc-editor.org/rfc/rfc7396), the semantics of ModelArts'
 * PatchNodePool (`Content-Type: application/merge-patch+json`): an object patches member by member,
 * `null` removes a member, anything else (arrays included) replaces the target whole.
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `target` with `patch` applied; neither is changed. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isJsonObject(patch)) return patch;
  const result: Record<string, unknown> = isJsonObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    // An own property whatever the key (`result["__proto__"] = ...` would set the prototype instead).
    else
      Object.defineProperty(result, key, {
        value: applyMergePatch(Object.hasOwn(result, key) ? result[key] : undefined, value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return result;
}
