/** What a node answers while its port is bound but its service is not up yet: retry in a second. */
export const startingResponse = (): Response =>
  Response.json(
    { error: { code: 'starting', message: 'the node is starting' } },
    { status: 503, headers: { 'retry-after': '1' } },
  );
