import type { z } from 'zod';
import { badRequest } from '../../kernel/errors.ts';

// ------------------------------------------------------------------- parse

/**
 * Validates `value` with `schema`, or throws `badRequest(message, field)` for
 * the first problem: `field` is the issue's path joined by '.', an unknown
 * key with its parent path (`budget.foo`). Unknown keys are reported first:
 * a misspelt field explains the "required" error that follows from it.
 */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value, { error: plainWords, reportInput: true });
  if (result.success) return result.data;
  const issues = result.error.issues;
  const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]!;
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') path.push(issue.keys[0]!);
  const field = path.length ? path.join('.') : 'body';
  throw badRequest(`${path.length ? field : 'request body'} ${issue.message}`, field);
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
};

/** Messages for the issues a schema does not word itself; `parse` puts the field name in front. */
function plainWords(iss: z.core.$ZodRawIssue): string | undefined {
  switch (iss.code) {
    case 'invalid_type':
      return iss.input === undefined
        ? 'is required'
        : `must be ${TYPE_WORDS[iss.expected] ?? iss.expected}`;
    case 'invalid_value': {
      const values = iss.values.map(String).join(', ');
      return iss.input === undefined
        ? `is required: one of ${values}`
        : `must be one of: ${values}`;
    }
    case 'too_small':
      return iss.origin === 'string' ? 'must not be empty' : `must be at least ${iss.minimum}`;
    case 'too_big':
      return iss.origin === 'string'
        ? `must be at most ${iss.maximum} characters`
        : iss.origin === 'array'
          ? `must have at most ${iss.maximum} items`
          : `must be at most ${iss.maximum}`;
    case 'unrecognized_keys':
      return 'is not a known field';
    case 'invalid_format':
      return 'has an invalid format';
    default:
      return undefined;
  }
}
