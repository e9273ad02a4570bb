/**
 * Agent-written text on a terminal is data, never control: escape sequences (screen clearing,
 * OSC 52 clipboard writes, title changes) and other control characters are shown as `\xHH`, and
 * line breaks and tabs as spaces, so one value stays one line.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function oneLine(text: string): string {
  return text.replace(CONTROL, (c) => (c === "\n" || c === "\r" || c === "\t" ? " " : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`));
}

/** The same for multi-line text: line breaks and tabs stay, every other control character is shown. */
export function neutralise(text: string): string {
  return text.replace(CONTROL, (c) => (c === "\n" || c === "\t" ? c : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`));
}
