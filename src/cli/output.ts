import { neutralise, oneLine } from "../text/neutralise.ts";
import { displayWidth, padEndDisplay, truncateDisplay } from "../text/width.ts";
import { out } from "../sys/io.ts";

/** Printing helpers shared by the data commands: JSON for scripts, aligned tables for people. */

export function printJson(value: unknown): void {
  out(`${JSON.stringify(value, null, 2)}\n`);
}

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Longest the column may grow before values are cut with `…`. */
  max?: number;
}

export function renderTable<T>(rows: readonly T[], columns: Column<T>[]): string {
  // Cells hold what agents and PRD authors wrote: one line each, no control characters.
  const cells = rows.map((r) => columns.map((c) => (c.max ? truncateDisplay(oneLine(c.value(r)), c.max) : oneLine(c.value(r)))));
  const widths = columns.map((c, i) => Math.max(displayWidth(c.header), ...cells.map((row) => displayWidth(row[i]!))));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (i === vals.length - 1 ? v : padEndDisplay(v, widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join("\n");
}

export function printTable<T>(rows: readonly T[], columns: Column<T>[], empty: string): void {
  out(rows.length ? `${renderTable(rows, columns)}\n` : `${empty}\n`);
}

/** Human-facing text: agent-written values inside never reach the terminal as control characters. */
export function say(text: string): void {
  out(neutralise(text));
}
