/** The guide's webhook: POST {"text": …}; 5 s timeout; a failure is logged, never fatal. */
export async function sendWebhook(url: string | undefined, text: string, log: (line: string) => void): Promise<void> {
  if (!url) return;
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text }),
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) log(`⚠ Webhook notification failed: HTTP ${res.status}`);
  } catch (err) {
    log(`⚠ Webhook notification failed: ${(err as Error).message}`);
  }
}
