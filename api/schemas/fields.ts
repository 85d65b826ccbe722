/** The building blocks of the request schemas: checked text, integers, strict objects. */
import { z } from 'zod';

// Control characters other than tab/newline have no place in goals, names or URLs.
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejects control characters in goals, names and URLs
const NO_CONTROL = /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/;
export const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
// Half a surrogate pair is not Unicode: Redis would store it as U+FFFD (the memory store as it is), and providers refuse it.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A string with something in it besides spaces, at most `max` characters, without control characters or invalid Unicode. */
export function text(max: number) {
  return z
    .string()
    .regex(/\S/, { error: 'must not be empty' })
    .max(max, { error: `must be at most ${max} characters` })
    .regex(NO_CONTROL, { error: 'contains control characters' })
    .refine((s) => !LONE_SURROGATE.test(s), {
      error: 'contains invalid Unicode (a lone surrogate)',
    });
}

/** An integer in [min, max]: one message for every way to miss it. */
export function int(min: number, max: number, coerce = false) {
  const error = `must be an integer from ${min} to ${max}`;
  return (coerce ? z.coerce.number({ error }) : z.number({ error }))
    .int({ error })
    .min(min, { error })
    .max(max, { error });
}

/**
 * An object that rejects fields it does not know, naming the ones it does;
 * `like` shows the expected shape when the value is not an object at all.
 */
export function strict<T extends z.core.$ZodLooseShape>(shape: T, like?: string) {
  const keys = Object.keys(shape);
  const allowed = keys.length ? `allowed: ${keys.join(', ')}` : 'this request takes no fields';
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code === 'unrecognized_keys') return `is not a known field (${allowed})`;
      if (iss.code === 'invalid_type')
        return iss.input === undefined
          ? 'is required'
          : `must be an object${like ? ` like ${like}` : ''}`;
      return undefined;
    },
  });
}

export const profileRef = (role: string) =>
  text(100)
    .describe(`The AI profile ${role} (GET /agent/ai-profiles lists them).`)
    .meta({ examples: ['01JD7X3Q9M2KQ8ZC4W6T5R1N0B'] });
