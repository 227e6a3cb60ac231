// The API client of the end-to-end bench in a process of its own, as a real client is: its HTTP
// work does not take PlugChat's event loop (the relay it is compared with has no API client).
// Asked with { url, auth, phone, prefix, count }, it sends `count` texts one request after
// another and answers with when it started and each message's id with the time it was sent.
process.on('message', async ({ url, auth, phone, prefix, count }) => {
  const sent = [];
  const startedAt = performance.timeOrigin + performance.now();
  for (let i = 0; i < count; i++) {
    const t = performance.timeOrigin + performance.now();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ phone, message: `${prefix} ${i}` }) });
    const body = await res.json();
    if (!res.ok) {
      process.send({ error: `send-text answered ${res.status}: ${JSON.stringify(body)}` });
      return;
    }
    sent.push([body.messageId, t]);
  }
  process.send({ startedAt, sent });
});
process.send({ ready: true });
