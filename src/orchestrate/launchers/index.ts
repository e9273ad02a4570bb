import type { LauncherName } from "../config.ts";
import { headlessLauncher } from "./headless.ts";
import { manualLauncher } from "./manual.ts";
import { tmuxLauncher } from "./tmux.ts";
import type { Launcher } from "./types.ts";

export function byName(name: LauncherName, print: (text: string) => void): Launcher {
  return name === "headless" ? headlessLauncher : name === "tmux" ? tmuxLauncher : manualLauncher(print);
}
