/**
 * Polls `probe` until it returns a value other than undefined, at most `attempts` times
 * `everyMs` apart; then fails naming `what` it waited for.
 */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, attempts = 600, everyMs = 100): Promise<T> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`gave up waiting for ${what} after ${attempts} attempts ${everyMs} ms apart`);
}
