/**
 * A small JSON Schema checker for tool arguments. Our tool schemas use a
 * fixed subset (object, string, integer, number, boolean, array of strings,
 * required, additionalProperties: false), so a few lines check them exactly
 * and name the offending field in words the model can act on.
 */

export type Schema =
  | {
      type: 'object';
      properties: Record<string, Schema>;
      required?: string[];
      additionalProperties?: false;
      description?: string;
    }
  | {
      type: 'string' | 'integer' | 'number' | 'boolean';
      description?: string;
      minimum?: number;
      maximum?: number;
      minLength?: number;
    }
  | { type: 'array'; items: Schema; description?: string; minItems?: number };

/** Problems with `value` against `schema`, as sentences; empty when it conforms. */
export function validate(schema: Schema, value: unknown, at = 'arguments'): string[] {
  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return [`${at} must be an object`];
      const obj = value as Record<string, unknown>;
      const out: string[] = [];
      for (const key of schema.required ?? [])
        if (obj[key] === undefined) out.push(`${at}.${key} is required`);
      for (const [key, v] of Object.entries(obj)) {
        // Own fields only: `__proto__` or `constructor` from the model must not find Object.prototype's.
        const sub = Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined;
        if (!sub) {
          if (schema.additionalProperties === false)
            out.push(
              `${at}.${key} is not a known field (known: ${Object.keys(schema.properties).join(', ')})`,
            );
          continue;
        }
        if (v === undefined || (v === null && !(schema.required ?? []).includes(key))) continue;
        out.push(...validate(sub, v, `${at}.${key}`));
      }
      return out;
    }
    case 'array': {
      if (!Array.isArray(value)) return [`${at} must be an array`];
      const out = value.flatMap((v, i) => validate(schema.items, v, `${at}[${i}]`));
      if (schema.minItems !== undefined && value.length < schema.minItems)
        out.push(`${at} needs at least ${schema.minItems} item(s)`);
      return out;
    }
    case 'string':
      if (typeof value !== 'string') return [`${at} must be a string`];
      if (schema.minLength !== undefined && value.length < schema.minLength)
        return [`${at} must not be empty`];
      return [];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at} must be true or false`];
    case 'integer':
    case 'number': {
      if (
        typeof value !== 'number' ||
        !Number.isFinite(value) ||
        (schema.type === 'integer' && !Number.isInteger(value))
      ) {
        return [`${at} must be ${schema.type === 'integer' ? 'an integer' : 'a number'}`];
      }
      if (schema.minimum !== undefined && value < schema.minimum)
        return [`${at} must be at least ${schema.minimum}`];
      if (schema.maximum !== undefined && value > schema.maximum)
        return [`${at} must be at most ${schema.maximum}`];
      return [];
    }
  }
}
