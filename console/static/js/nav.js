// Navigation by the URL's #fragment: every page has an address that can be bookmarked.

export function go(route) { window.location.hash = `#/${route}`; }
