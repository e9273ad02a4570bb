/**
 * Answers about commits named by their full object ids, remembered: two commits' merge, or whether
 * one is an ancestor of the other, never change (the ids fix the content and the whole history
 * behind it), so a page that asks again on every event costs one git run per new tip, not per ask.
 * Anything named by a ref is asked afresh; errors are never remembered.
 */
const FULL_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const MAX_ENTRIES = 2048;

export function commitMemo<T>(): (ids: readonly string[], compute: () => T) => T {
  const answers = new Map<string, T>();
  return (ids, compute) => {
    if (!ids.every((id) => FULL_ID.test(id))) return compute();
    const key = ids.join(" ");
    if (answers.has(key)) return answers.get(key)!;
    const value = compute();
    answers.set(key, value);
    // Oldest first out: a Map keeps insertion order.
    if (answers.size > MAX_ENTRIES) answers.delete(answers.keys().next().value!);
    return value;
  };
}
