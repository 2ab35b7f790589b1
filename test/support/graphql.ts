import type { GraphQLFormattedError } from 'graphql';

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T | null;
  errors?: GraphQLFormattedError[];
}

export async function gql<T = any>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: GraphQLFormattedError[] };
  return { status: res.status, ...body };
}

/** The error codes of a response, in order. */
export const codes = (res: GraphQLResponse) => (res.errors ?? []).map((e) => e.extensions?.code);

/** Fails with the server's errors in the message when there are any. */
export function ok<T>(res: GraphQLResponse<T>): T {
  if (res.errors?.length) throw new Error('GraphQL errors: ' + JSON.stringify(res.errors, null, 2));
  return res.data as T;
}
