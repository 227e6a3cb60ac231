// The API client of the end-to-end bench in a process of its own, as a real client is: its HTTP
// work does not take PlugChat's event loop (the relay it is compared with has no API client).
// Asked with { url, auth, phone, prefix, count, inFlight }, it sends `count` texts with `inFlight`
// requests under way at a time (1: one request after another) and answers with when it started and
// each message's id with the time it was sent.
process.on('message', async ({ url, auth, phone, prefix, count, inFlight = 1 }) => {
  const sent = [];
  const startedAt = performance.timeOrigin + performance.now();
  let next = 0;
  let failed;
  const worker = async () => {
    while (next < count && !failed) {
      const i = next++;
      const t = performance.timeOrigin + performance.now();
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ phone, message: `${prefix} ${i}` }) });
      const body = await res.json();
      if (!res.ok) failed ??= `send-text answered ${res.status}: ${JSON.stringify(body)}`;
      else sent.push([body.messageId, t]);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  process.send(failed ? { error: failed } : { startedAt, sent });
});
process.send({ ready: true });
