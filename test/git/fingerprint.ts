/**
 * Everything a checkout holds, for "byte for byte" comparisons in tests: HEAD, the index's
 * entries (content, not git's assume-unchanged / skip-worktree marks), every file's bytes and
 * mode bit, every link's target, and each nested repository's refs and files in turn.
 */
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

export interface Fingerprint {
  head: string | null;
  /** The ref HEAD points at, or null when detached. */
  symref: string | null;
  /** `git ls-files -s` (mode, blob, stage, path). */
  index: string;
  /** Every ref of the repository (nested repositories only: the worktree's own refs live in the main repository). */
  refs: string | null;
  files: Record<string, string>;
  nested: Record<string, Fingerprint>;
}

function git(cwd: string, args: string[]): string | null {
  const p = Bun.spawnSync(["git", ...args], { cwd, stdout: "pipe", stderr: "pipe", env: { ...process.env, LC_ALL: "C", GIT_OPTIONAL_LOCKS: "0" } });
  return p.exitCode === 0 ? p.stdout.toString() : null;
}

/** `skip(path)`: leave out build output and the like (matched on paths relative to `root`). */
export function fingerprint(root: string, skip: (path: string) => boolean = () => false, withRefs = false): Fingerprint {
  const fp: Fingerprint = {
    head: git(root, ["rev-parse", "--verify", "-q", "HEAD"])?.trim() || null,
    symref: git(root, ["symbolic-ref", "-q", "HEAD"])?.trim() || null,
    index: git(root, ["ls-files", "-s"]) ?? "",
    refs: withRefs ? (git(root, ["for-each-ref", "--format=%(refname) %(objectname)"]) ?? "") : null,
    files: {},
    nested: {},
  };
  const walk = (dir: string) => {
    for (const name of readdirSync(join(root, dir)).sort()) {
      const rel = dir ? `${dir}/${name}` : name;
      if (rel === ".git" || skip(rel)) continue;
      const full = join(root, rel);
      let st;
      try {
        st = lstatSync(full);
      } catch {
        fp.files[rel] = "(a name that is not valid UTF-8)"; // readdir gave it lossy: unreachable by that name
        continue;
      }
      if (st.isSymbolicLink()) fp.files[rel] = `link -> ${readlinkSync(full)}`;
      else if (st.isFile()) fp.files[rel] = `file ${createHash("sha256").update(readFileSync(full)).digest("hex")}${st.mode & 0o100 ? " +x" : ""}`;
      else if (st.isDirectory()) {
        let nested = false;
        try {
          nested = lstatSync(join(full, ".git")).isDirectory();
        } catch {
          // not a repository
        }
        if (nested) fp.nested[rel] = fingerprint(full, () => false, true);
        else walk(rel);
      }
    }
  };
  walk("");
  return fp;
}
