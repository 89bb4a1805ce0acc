// Short descriptions of wrong arguments for the text helpers' error messages.

/** What a value is, in a few words: a type, a class name, or a string's first characters. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 20 ? value.slice(0, 20) + '...' : value);
  return String(value);
}

/** Whether a value is array-like: an array or a typed array (not a string). */
export function isArrayLike(value: unknown): value is ArrayLike<number> {
  return value !== null && typeof value === 'object' && typeof (value as ArrayLike<number>).length === 'number';
}
