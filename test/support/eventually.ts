/** Retries an assertion until it passes or the time is up (for effects written behind a response). */
export async function eventually(
  assertion: () => Promise<void>,
  timeoutMs = 3_000,
  everyMs = 25,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await assertion();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }
}
