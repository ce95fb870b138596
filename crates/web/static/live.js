// Live updates (SSE) end with their page. A browser may keep a page that was left (the
// back-forward cache) with its connections open; a few of those use up the six
// connections a browser allows to one server, and the next click waits.
addEventListener('pagehide', () => {
  document.querySelectorAll('[sse-connect]').forEach((el) => {
    const data = el['htmx-internal-data'];
    if (data && data.sseEventSource) data.sseEventSource.close();
  });
});
// Back to a kept page: load it afresh, so it is live and current again.
addEventListener('pageshow', (e) => {
  if (e.persisted) location.reload();
});
