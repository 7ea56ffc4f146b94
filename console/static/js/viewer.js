// Who is signed in (当前用户), as the API says (`viewer`): role, jurisdiction, rights and the
// menu the role policy gives. Asked once per token; the menu is never decided here.

import { gql } from './api.js';
import { session } from './session.js';

const QUERY_VIEWER = `
query Viewer {
  viewer { principal name role org regions scopes rights mutations menu
           jurisdiction { code name } }
}`;

let cached = { token: null, answer: null };

export function currentViewer() {
  const token = session.token();
  if (!token) return Promise.resolve(null);
  if (cached.token !== token) {
    const answer = gql(QUERY_VIEWER).then((data) => data.viewer);
    cached = { token, answer };
    answer.catch(() => { if (cached.answer === answer) cached = { token: null, answer: null }; });
  }
  return cached.answer;
}

export function mayDo(viewer, mutation) { return Boolean(viewer?.mutations.includes(mutation)); }
export function hasRight(viewer, right) { return Boolean(viewer?.rights.includes(right)); }
