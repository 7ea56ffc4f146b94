// The signed-in session (会话): the bearer token in sessionStorage (gone with the tab), the
// claims read from it for display only (the server verifies every request), and drafts.

const TOKEN = 'govhub.token';
const DRAFTS = 'govhub.drafts';

function claimsOf(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = decodeURIComponent(
      [...atob(payload)].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join(''),
    );
    return JSON.parse(json);
  } catch {
    return null;
  }
}

export const session = {
  token() { return sessionStorage.getItem(TOKEN); },
  claims() { const t = this.token(); return t ? claimsOf(t) : null; },
  signIn(token) { sessionStorage.setItem(TOKEN, token.trim()); },
  signOut() { sessionStorage.removeItem(TOKEN); },
  hasScope(scope) {
    const scopes = this.claims()?.scopes ?? [];
    return (Array.isArray(scopes) ? scopes : String(scopes).split(' ')).includes(scope);
  },
  looksValid(token) { const c = claimsOf(token.trim()); return Boolean(c && c.role); },
};

// What the user typed, kept when the session ends, given back after signing in again.
export const drafts = {
  save(route, values) {
    const all = JSON.parse(sessionStorage.getItem(DRAFTS) || '{}');
    all[route] = values;
    sessionStorage.setItem(DRAFTS, JSON.stringify(all));
  },
  take(route) {
    const all = JSON.parse(sessionStorage.getItem(DRAFTS) || '{}');
    const values = all[route];
    delete all[route];
    sessionStorage.setItem(DRAFTS, JSON.stringify(all));
    return values;
  },
};
