/**
 * Every request body and query of the API as a zod schema: the routes
 * validate with `parse()`, and `api/openapi/` turns the same schemas into
 * the OpenAPI document, so the docs cannot drift from the checks. The
 * response views are for the docs only.
 */
export { text } from './fields.ts';
export * from './parse.ts';
export * from './requests.ts';
export * from './responses.ts';
