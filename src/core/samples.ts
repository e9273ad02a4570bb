/** Sample PRDs shipped inside the binary (the guide's Dark Mode PRD, verbatim) for `orch demo` and tests. */
import darkMode from "./samples/dark-mode.md" with { type: "text" };

export const DARK_MODE_PRD: string = darkMode;
