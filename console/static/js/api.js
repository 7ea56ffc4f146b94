// The public GraphQL API (/graphql), the console's only server: POST for queries and
// mutations; subscriptions over graphql-transport-ws on the same path (see live.js).

import { session } from './session.js';
import { errorMessage } from './labels.js';

export class ApiError extends Error {
  constructor(code, errors = []) {
    super(errorMessage(code));
    this.code = code;
    this.errors = errors;
  }
}

// A stated purpose (查询用途) travels in X-Purpose, %-encoded: headers carry no Chinese.
// An UNAUTHENTICATED answer signs the user out (unless `quiet`: the login page's own check).
export async function gql(query, variables = {}, { purpose, anonymous = false, quiet = false } = {}) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  const token = session.token();
  if (token && !anonymous) headers.Authorization = `Bearer ${token}`;
  if (purpose) headers['X-Purpose'] = encodeURIComponent(purpose);
  let response;
  try {
    response = await fetch('/graphql', {
      method: 'POST', headers, body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError('NETWORK');
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError('BAD_RESPONSE');
  }
  const errors = body.errors ?? [];
  if (errors.length) {
    const code = errors[0].extensions?.code ?? 'INTERNAL_SERVER_ERROR';
    if (code === 'UNAUTHENTICATED' && !anonymous && !quiet) {
      window.dispatchEvent(new CustomEvent('govhub:signed-out'));
    }
    throw new ApiError(code, errors);
  }
  return body.data;
}
