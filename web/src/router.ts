import { signal } from '@preact/signals';

/** The path under /app the page shows; pushState keeps the browser's history in step. */
export const route = signal(location.pathname);

export function navigate(to: string, replace = false): void {
  if (to === route.value) return;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  route.value = to;
}

addEventListener('popstate', () => {
  route.value = location.pathname;
});
